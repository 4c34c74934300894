/*
 * berth-stdin-relay [--output] SOCKET: a client of a conmon attach socket, which is a
 * SOCK_SEQPACKET unix socket that Node cannot open.
 *
 * Default (stdin) mode: once connected it writes one byte ('R') to stdout, so the caller hands
 * it input only then (exit 1, could not connect, then loses nothing the caller could retry
 * with); a send failing after that exits 4. Then it copies its stdin into the socket. On stdin
 * EOF it shuts down its write side, so conmon closes the container's stdin. What conmon sends back (the container's output)
 * is read and dropped: berthd serves output from the log file, and an unread socket could stall
 * conmon.
 *
 * --output mode (the `none` log driver, which keeps no log file): stdin is not read and the
 * socket's write side stays open. Once connected it writes a ready frame (type 0, length 0),
 * then each packet conmon sends as a frame: one byte, conmon's pipe (2 stdout, 3 stderr), a
 * 4-byte big-endian length, the bytes. Blocking writes to stdout hold conmon back when the
 * reader is slow, as Docker's attach does. Built by scripts/build.mjs with the system C compiler.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int frame(unsigned char type, const char *data, size_t len) {
  unsigned char head[5] = {type, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len};
  if (write_all(1, (const char *)head, sizeof head) < 0) return -1;
  return len > 0 ? write_all(1, data, len) : 0;
}

int main(int argc, char **argv) {
  int output = argc == 3 && strcmp(argv[1], "--output") == 0;
  if (argc != 2 && !output) {
    fprintf(stderr, "usage: %s [--output] ATTACH_SOCKET\n", argv[0]);
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
  char *path = argv[argc - 1];
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
  /* conmon sends at most its 8 KiB read plus the pipe byte per packet; room to spare. */
  char buf[65536];
  if (output) {
    if (frame(0, NULL, 0) < 0) return 3;
    for (;;) {
      ssize_t r = recv(fd, buf, sizeof buf, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return 0; /* conmon closed: the container is gone */
      if (r > 1 && frame((unsigned char)buf[0], buf + 1, (size_t)r - 1) < 0) return 3;
    }
  }
  if (write_all(1, "R", 1) < 0 && errno != EPIPE && errno != EBADF) return 3;
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
      ssize_t r = read(0, buf, 8192);
      if (r <= 0) {
        shutdown(fd, SHUT_WR);
        stdin_open = 0;
        continue;
      }
      if (send(fd, buf, (size_t)r, 0) < 0) return 4; /* connected, then lost: not a retry */
    }
  }
}
