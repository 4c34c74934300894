/*
 * berth-stdin-relay SOCKET: copies its stdin into a conmon attach socket, which is a
 * SOCK_SEQPACKET unix socket that Node cannot open. On stdin EOF it shuts down its write side,
 * so conmon closes the container's stdin. What conmon sends back (the container's output) is
 * read and dropped: berthd serves output from the log file, and an unread socket could stall
 * conmon. Built by scripts/build.mjs with the system C compiler.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ATTACH_SOCKET\n", argv[0]);
    return 2;
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  /* sun_path holds only 108 bytes: connect relative to the socket's directory. */
  char *path = argv[1];
  char *slash = strrchr(path, '/');
  if (slash != NULL && slash != path) {
    *slash = '\0';
    if (chdir(path) < 0) {
      perror("chdir");
      return 1;
    }
    path = slash + 1;
  }
  if (strlen(path) >= sizeof sa.sun_path) {
    fprintf(stderr, "attach socket name too long: %s\n", path);
    return 1;
  }
  strcpy(sa.sun_path, path);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    perror("connect");
    return 1;
  }
  char buf[8192];
  int stdin_open = 1;
  for (;;) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(p, stdin_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (recv(fd, buf, sizeof buf, 0) <= 0) return 0; /* conmon closed: the container is gone */
    }
    if (stdin_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0) {
        shutdown(fd, SHUT_WR);
        stdin_open = 0;
        continue;
      }
      if (send(fd, buf, (size_t)r, 0) < 0) return 1;
    }
  }
}
