/*
 * berth-unixgram-relay: sends datagrams to unix datagram sockets for berthd (Node's dgram has no
 * AF_UNIX). One process per daemon. Requests on stdin, each:
 *   u32le path length, path bytes ("@name": abstract namespace), u32le data length, data bytes
 * and for each one answer on stdout: i32le 0, or the errno of the failed send.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_DATA (16u << 20)

static int read_full(void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = read(0, p, n);
    if (r == 0) return 0;
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += r;
    n -= (size_t)r;
  }
  return 1;
}

static void answer(int32_t code) {
  char b[4];
  memcpy(b, &code, 4);
  if (write(1, b, 4) != 4) exit(1);
}

int main(void) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 1;
  int sndbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  char *data = malloc(MAX_DATA);
  if (!data) return 1;
  for (;;) {
    uint32_t plen, dlen;
    struct sockaddr_un sa;
    if (read_full(&plen, 4) <= 0) return 0;
    if (plen >= sizeof sa.sun_path) return 2;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (read_full(sa.sun_path, plen) <= 0) return 2;
    if (read_full(&dlen, 4) <= 0 || dlen > MAX_DATA) return 2;
    if (read_full(data, dlen) <= 0) return 2;
    /* "@name" is a socket in the abstract namespace (systemd's NOTIFY_SOCKET may be one): its
     * address is a leading NUL and exactly the name's bytes. */
    socklen_t alen = sizeof sa;
    if (plen > 0 && sa.sun_path[0] == '@') {
      sa.sun_path[0] = '\0';
      alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
    }
    ssize_t r;
    do r = sendto(fd, data, dlen, 0, (struct sockaddr *)&sa, alen);
    while (r < 0 && errno == EINTR);
    answer(r < 0 ? errno : 0);
  }
}
