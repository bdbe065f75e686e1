/*
 * Preloaded into every dynamically linked program of a live container (/etc/ld.so.preload of its root
 * filesystem): gives the container its pod's address on the host's shared loopback, where a pod on a
 * cluster has a network namespace of its own.
 *
 *  - bind() to 0.0.0.0 or 127.0.0.1 binds the pod's address instead (every pod listens on the same
 *    ports; on a cluster "any address" and localhost are the pod's own);
 *  - bind() to :: or ::1 fails with EADDRNOTAVAIL: pods on the twin have IPv4 only;
 *  - connect() to 127.0.0.1 reaches the pod's address (the pod's own localhost), and an unbound
 *    socket connecting to another loopback address is first bound to the pod's address, so peers see
 *    the pod's address as the source, as across a pod network.
 *
 * The pod's address is the first line of /usr/lib/twin/pod-ip. Without it nothing is changed.
 *
 * Twin simplification: a pod has no network namespace of its own (all pods share the host's loopback), so a pod's localhost is its pod address, pods have no IPv6, and statically linked programs (which ignore the preload) bind as they ask (https://kubernetes.io/docs/concepts/services-networking/#the-kubernetes-network-model).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static struct in_addr pod_addr;
static int have_pod_addr;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);

static void init(void) {
  real_bind = dlsym(RTLD_NEXT, "bind");
  real_connect = dlsym(RTLD_NEXT, "connect");
  FILE *f = fopen("/usr/lib/twin/pod-ip", "re");
  if (!f) return;
  char line[64] = {0};
  if (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    have_pod_addr = inet_pton(AF_INET, line, &pod_addr) == 1;
  }
  fclose(f);
}

static int is_loopback_v4(struct in_addr a) { return (ntohl(a.s_addr) >> 24) == 127; }

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  pthread_once(&once, init);
  if (have_pod_addr && addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    struct sockaddr_in in;
    memcpy(&in, addr, sizeof in);
    if (in.sin_addr.s_addr == htonl(INADDR_ANY) || in.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
      in.sin_addr = pod_addr;
      return real_bind(fd, (struct sockaddr *)&in, sizeof in);
    }
  }
  if (have_pod_addr && addr && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
    if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
      errno = EADDRNOTAVAIL;
      return -1;
    }
  }
  return real_bind(fd, addr, len);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  pthread_once(&once, init);
  if (have_pod_addr && addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    struct sockaddr_in in;
    memcpy(&in, addr, sizeof in);
    if (in.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) in.sin_addr = pod_addr;
    if (is_loopback_v4(in.sin_addr)) {
      struct sockaddr_in local;
      socklen_t local_len = sizeof local;
      int type = 0;
      socklen_t type_len = sizeof type;
      if (getsockname(fd, (struct sockaddr *)&local, &local_len) == 0 && local.sin_family == AF_INET &&
          local.sin_port == 0 && local.sin_addr.s_addr == htonl(INADDR_ANY) &&
          getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_STREAM) {
        struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0, .sin_addr = pod_addr};
        real_bind(fd, (struct sockaddr *)&src, sizeof src);
      }
    }
    return real_connect(fd, (struct sockaddr *)&in, sizeof in);
  }
  return real_connect(fd, addr, len);
}
