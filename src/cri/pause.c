/*
 * berth-pause: the infra process of a CRI pod sandbox. It holds the pod's namespaces (network,
 * IPC, UTS and, for a shared-PID pod, PID) for as long as the pod lives, reaps the zombies it
 * inherits as PID 1 of a shared PID namespace, and exits 0 on SIGINT or SIGTERM. Built static
 * by scripts/build.mjs so the sandbox's rootfs needs nothing but this one file (no image pull).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_down(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("berth-pause 1");
    return 0;
  }
  struct sigaction down = {0}, child = {0};
  down.sa_handler = on_down;
  sigemptyset(&down.sa_mask);
  child.sa_handler = on_child;
  sigemptyset(&child.sa_mask);
  child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  if (sigaction(SIGINT, &down, NULL) || sigaction(SIGTERM, &down, NULL) || sigaction(SIGCHLD, &child, NULL)) {
    perror("berth-pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
