/*
 * berth-x32-probe: exits 0 when this kernel serves x32 system calls (the ILP32 ABI on x86_64),
 * 1 when it answers them with ENOSYS (CONFIG_X86_X32_ABI unset, or Debian's syscall.x32=n),
 * 2 on any other answer. berthd asks once at start: the default seccomp profile's x32 rules
 * cost runc a large share of every create and exec (scripts/bench-spec-cost.ts) and guard an
 * ABI such a kernel does not run. On other architectures the probe is not asked.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
#if defined(__x86_64__)
  /* getpid in the x32 table: the syscall number with __X32_SYSCALL_BIT set. */
  long r = syscall(0x40000000L | SYS_getpid);
  if (r > 0) return 0;
  return errno == ENOSYS ? 1 : 2;
#else
  return 2;
#endif
}
