/*
 * The twin's container launcher: runs `/bin/sh <start-script> [args]` as process 1 of new mount,
 * UTS, IPC and PID namespaces, the way a container runtime starts a container's process. The start
 * script mounts the container's root filesystem and volumes and execs the container's command, which
 * so becomes process 1 of its PID namespace, as in a container.
 *
 * The launcher stays outside the namespaces as the kubelet's child: it passes the signals a runtime
 * sends (SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH) to process 1 only, exits with
 * its status (128 + signal when killed), and kills it when the twin dies (its parent-death signal;
 * process 1 dying takes every process of the namespace with it).
 *
 * Needs CAP_SYS_ADMIN (root). Exit codes of its own: 125 (cannot create the namespaces), 126 (cannot
 * start the script).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child = -1;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

static void parent_died(int sig) {
  (void)sig;
  if (child > 0) kill(child, SIGKILL);
  _exit(137);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <start-script> [args...]\n", argv[0]);
    return 2;
  }
  pid_t parent = getppid();
  int deathsig = SIGRTMIN + 2;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = parent_died;
  sigaction(deathsig, &sa, NULL);
  if (prctl(PR_SET_PDEATHSIG, deathsig) != 0 || getppid() != parent) return 137;

  /* Installed before the fork, so no signal is lost; execve resets them to the default in the child. */
  int forwarded[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH};
  sa.sa_handler = forward;
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaction(forwarded[i], &sa, NULL);

  if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID) != 0) {
    fprintf(stderr, "twin-sandbox: cannot create the container's namespaces: %s (the twin runs images live as root)\n",
            strerror(errno));
    return 125;
  }
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "twin-sandbox: fork: %s\n", strerror(errno));
    return 125;
  }
  if (pid == 0) {
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    args[0] = "sh";
    for (int i = 1; i < argc; i++) args[i] = argv[i];
    execv("/bin/sh", args);
    fprintf(stderr, "twin-sandbox: cannot run /bin/sh: %s\n", strerror(errno));
    _exit(126);
  }
  child = pid;
  int status;
  for (;;) {
    pid_t r = waitpid(pid, &status, 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return 125;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}
