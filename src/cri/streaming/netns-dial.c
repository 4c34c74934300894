/*
 * berth-netns-dial NETNS_FILE PORT: connects to 127.0.0.1:PORT inside the network namespace
 * pinned at NETNS_FILE and relays its stdin/stdout to that connection. berthd cannot setns()
 * itself (Node is multi-threaded and setns applies to one thread), so a CRI PortForward runs
 * one of these per forwarded connection. stdin EOF half-closes the connection (shutdown
 * SHUT_WR) and the relay keeps reading until the pod's side closes; then it exits 0. It also
 * dies with berthd (PR_SET_PDEATHSIG). A failed setns or connect, or a broken connection, is
 * one line on stderr and exit 1.
 * Not nsenter + nc: that is two processes per connection, and busybox nc neither half-closes on
 * stdin EOF nor reports a refused connection distinctly. Built by scripts/build.mjs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const char *p, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, (size_t)n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= w;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s NETNS_FILE PORT\n", argv[0]);
    return 2;
  }
  char *end = NULL;
  long port = strtol(argv[2], &end, 10);
  if (*argv[2] == '\0' || *end != '\0' || port < 1 || port > 65535) {
    fprintf(stderr, "invalid port %s: must be 1-65535\n", argv[2]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  /* A kill -9 of berthd ends the relay too, rather than leaving it holding the pod's socket. */
  pid_t parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) return 1;
  int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    fprintf(stderr, "cannot enter the pod's network namespace %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  close(ns);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    fprintf(stderr, "socket: %s\n", strerror(errno));
    return 1;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
    if (errno == EINTR) continue;
    fprintf(stderr, "failed to connect to localhost:%ld inside the pod's network namespace: %s\n", port,
            strerror(errno));
    return 1;
  }
  char buf[65536];
  int stdin_open = 1;
  for (;;) {
    struct pollfd p[2] = {{s, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(p, stdin_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(s, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        fprintf(stderr, "connection to localhost:%ld broke: %s\n", port, strerror(errno));
        return 1;
      }
      if (n == 0) return 0; /* the pod's side closed */
      if (write_all(1, buf, n) < 0) return 0; /* berthd's side is gone */
    }
    if (stdin_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        stdin_open = 0;
        shutdown(s, SHUT_WR);
      } else if (write_all(s, buf, n) < 0) {
        fprintf(stderr, "connection to localhost:%ld broke: %s\n", port, strerror(errno));
        return 1;
      }
    }
  }
}
