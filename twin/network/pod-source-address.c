/*
 * Loaded into the twin's live pods with LD_PRELOAD: a connection to the cluster's address ranges
 * leaves from the pod's own address, as it does from a pod's network namespace on a cluster, so the
 * twin's NetworkPolicy rules see which pod it comes from. Without it every local process connects
 * from 127.0.0.1, the host.
 *
 * TWIN_POD_SOURCE_IP  the pod's address (nothing is done without it)
 * TWIN_CLUSTER_CIDRS  comma-separated IPv4 blocks the binding applies to (pods and Services)
 *
 * Twin simplification: only programs that call libc's connect() are rebound; statically linked ones
 * (Go binaries) connect from 127.0.0.1, as every program does where no C compiler built this file.
 *
 * Only sockets not yet bound are bound, so a program's own bind() wins; IP_BIND_ADDRESS_NO_PORT lets
 * the kernel pick the port at connect() as it does for an unbound socket. Built by
 * twin/network/pod-source-shim.ts with the machine's C compiler.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_BLOCKS 8

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

static connect_fn real_connect;
static struct in_addr source;
static int have_source;
static uint32_t block_base[MAX_BLOCKS];
static uint32_t block_mask[MAX_BLOCKS];
static int blocks;

static void add_block(const char *text) {
  char buf[32];
  const char *slash = strchr(text, '/');
  size_t len = slash ? (size_t)(slash - text) : strlen(text);
  struct in_addr a;
  if (blocks >= MAX_BLOCKS || len == 0 || len >= sizeof buf) return;
  memcpy(buf, text, len);
  buf[len] = '\0';
  if (inet_pton(AF_INET, buf, &a) != 1) return;
  int prefix = slash ? atoi(slash + 1) : 32;
  if (prefix < 0 || prefix > 32) return;
  uint32_t mask = prefix == 0 ? 0 : htonl(0xffffffffu << (32 - prefix));
  block_base[blocks] = a.s_addr & mask;
  block_mask[blocks] = mask;
  blocks++;
}

__attribute__((constructor)) static void init(void) {
  real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
  const char *ip = getenv("TWIN_POD_SOURCE_IP");
  if (ip && inet_pton(AF_INET, ip, &source) == 1) have_source = 1;
  const char *cidrs = getenv("TWIN_CLUSTER_CIDRS");
  if (!cidrs) cidrs = "127.10.0.0/16,127.96.0.0/16";
  char list[256];
  strncpy(list, cidrs, sizeof list - 1);
  list[sizeof list - 1] = '\0';
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    add_block(tok);
}

static int in_cluster(uint32_t addr) {
  for (int i = 0; i < blocks; i++)
    if ((addr & block_mask[i]) == block_base[i]) return 1;
  return 0;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  if (!real_connect) real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
  if (have_source && addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in) &&
      in_cluster(((const struct sockaddr_in *)addr)->sin_addr.s_addr)) {
    struct sockaddr_in local;
    socklen_t local_len = sizeof local;
    int saved = errno;
    if (getsockname(fd, (struct sockaddr *)&local, &local_len) == 0 && local.sin_family == AF_INET &&
        local.sin_addr.s_addr == htonl(INADDR_ANY) && local.sin_port == 0) {
      int one = 1;
      struct sockaddr_in bind_to;
      memset(&bind_to, 0, sizeof bind_to);
      bind_to.sin_family = AF_INET;
      bind_to.sin_addr = source;
      setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      /* If the bind fails the connection leaves from the default address, as without the shim. */
      bind(fd, (struct sockaddr *)&bind_to, sizeof bind_to);
    }
    errno = saved;
  }
  return real_connect(fd, addr, len);
}
