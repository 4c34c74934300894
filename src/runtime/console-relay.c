/*
 * berth-console-relay SOCKET ROWS COLS PIDFILE RUNTIME ARGS...: the terminal end of `exec -t`.
 *
 * runc hands a process's pty master out only when it detaches (`runc exec -d -t
 * --console-socket`), over a unix socket with SCM_RIGHTS, which Node cannot receive. So this
 * helper makes itself a child subreaper, listens on SOCKET, runs the runtime command (which
 * must include `-d -t --console-socket SOCKET --pid-file PIDFILE`), receives the master, and
 * then relays stdin -> master and master -> stdout. The detached process is re-parented to
 * this helper, which reaps it and so learns its exit status, as conmon does for containers.
 *
 * fd 3 is a line protocol with berthd. Helper -> berthd: "pid N" once the process runs,
 * "exit N" when it ended (128+signal if killed), "fail N" if the runtime itself failed with
 * status N (its stderr passes through). berthd -> helper: "ROWS COLS" to resize.
 * Built by scripts/build.mjs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static void resize(int master, int rows, int cols) {
  if (master < 0 || rows <= 0 || cols <= 0) return;
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)rows;
  ws.ws_col = (unsigned short)cols;
  ioctl(master, TIOCSWINSZ, &ws);
}

/* Receives the pty master that runc sends with SCM_RIGHTS. */
static int receive_fd(int conn) {
  char name[4096];
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  if (recvmsg(conn, &msg, 0) < 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static int status_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 255;
}

static void report(const char *what, int n) {
  char line[64];
  int len = snprintf(line, sizeof line, "%s %d\n", what, n);
  write_all(3, line, (size_t)len);
}

static int read_pidfile(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  int pid = -1;
  if (fscanf(f, "%d", &pid) != 1) pid = -1;
  fclose(f);
  return pid;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s SOCKET ROWS COLS PIDFILE RUNTIME [ARGS...]\n", argv[0]);
    return 2;
  }
  int rows = atoi(argv[2]);
  int cols = atoi(argv[3]);
  const char *pidfile = argv[4];
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    perror("prctl");
    return 1;
  }
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) {
    perror("socket");
    return 1;
  }
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof sa.sun_path) {
    fprintf(stderr, "console socket path too long: %s\n", argv[1]);
    return 1;
  }
  strcpy(sa.sun_path, argv[1]);
  unlink(argv[1]);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 1) < 0) {
    perror("bind");
    return 1;
  }
  pid_t runtime = fork();
  if (runtime < 0) {
    perror("fork");
    return 1;
  }
  if (runtime == 0) {
    /* The runtime gets no terminal input: the process's stdin is the pty. */
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    close(3);
    execvp(argv[5], argv + 5);
    perror("exec runtime");
    _exit(127);
  }
  /* Wait for the master, or for the runtime to fail before it sends one. */
  int master = -1;
  for (;;) {
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    int r = poll(&p, 1, 50);
    if (r > 0) {
      int conn = accept(lfd, NULL, NULL);
      if (conn >= 0) {
        master = receive_fd(conn);
        close(conn);
        break;
      }
    }
    int st;
    if (waitpid(runtime, &st, WNOHANG) == runtime) {
      unlink(argv[1]);
      report("fail", status_code(st) == 0 ? 255 : status_code(st));
      return 1;
    }
  }
  unlink(argv[1]);
  close(lfd);
  if (master < 0) {
    fprintf(stderr, "did not receive a terminal from the runtime\n");
    report("fail", 255);
    return 1;
  }
  resize(master, rows, cols);
  int st;
  while (waitpid(runtime, &st, 0) < 0 && errno == EINTR) {
  }
  if (status_code(st) != 0) {
    report("fail", status_code(st));
    return 1;
  }
  int pid = read_pidfile(pidfile);
  if (pid <= 0) {
    fprintf(stderr, "the runtime wrote no pid file at %s\n", pidfile);
    report("fail", 255);
    return 1;
  }
  report("pid", pid);

  char buf[16384];
  char ctl[256];
  size_t ctl_len = 0;
  int stdin_open = 1, ctl_open = 1, exited = 0, code = 0;
  for (;;) {
    /* Reap whatever was re-parented to us; the exec's own status is the one we report. */
    int wst;
    pid_t w;
    while ((w = waitpid(-1, &wst, WNOHANG)) > 0) {
      if (w == pid) {
        exited = 1;
        code = status_code(wst);
      }
    }
    struct pollfd p[3] = {
        {.fd = master, .events = POLLIN},
        {.fd = stdin_open && !exited ? 0 : -1, .events = POLLIN},
        {.fd = ctl_open ? 3 : -1, .events = POLLIN},
    };
    /* Once the process is gone, drain what is left of its output, then stop. */
    int r = poll(p, 3, exited ? 20 : 100);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (r == 0 && exited) break;
    /* Resizes first: one sent before some input takes effect before that input reaches the
     * process (a shell reading a line, then `stty size`, must see the new size). */
    if (ctl_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(3, ctl + ctl_len, sizeof ctl - 1 - ctl_len);
      if (n <= 0) {
        ctl_open = 0;
        continue;
      }
      ctl_len += (size_t)n;
      ctl[ctl_len] = '\0';
      char *nl;
      while ((nl = strchr(ctl, '\n')) != NULL) {
        int rr = 0, cc = 0;
        *nl = '\0';
        if (sscanf(ctl, "%d %d", &rr, &cc) == 2) resize(master, rr, cc);
        size_t used = (size_t)(nl - ctl) + 1;
        memmove(ctl, nl + 1, ctl_len - used + 1);
        ctl_len -= used;
      }
      if (ctl_len == sizeof ctl - 1) ctl_len = 0; /* a line too long to be ours: drop it */
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        /* EIO: every slave fd is closed; wait for the process itself. */
        if (!exited) {
          while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
          }
          code = status_code(wst);
        }
        break;
      }
      if (write_all(1, buf, (size_t)n) < 0) stdin_open = 0;
    }
    if (stdin_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(0, buf, sizeof buf);
      /* A terminal has no half-close: at EOF stop reading and keep relaying output. */
      if (n <= 0 || write_all(master, buf, (size_t)n) < 0) stdin_open = 0;
    }
  }
  report("exit", code);
  return 0;
}
