// Berth's default seccomp profile: the same policy as Docker's default (deny with EPERM, allow a
// list), written as a table grouped by purpose, and a resolver that turns the table into the OCI
// `linux.seccomp` object for one architecture and one capability set. Pure: no I/O.

/** Conditions a rule depends on, as in Docker's profile format. */
interface When {
  /** Only on these Go architecture names (amd64, arm64, s390x...). */
  readonly arches?: readonly string[];
  /** Only when the container has all of these capabilities. */
  readonly caps?: readonly string[];
}

interface Rule {
  readonly why: string;
  readonly names: readonly string[];
  readonly action?: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  readonly errnoRet?: number;
  readonly args?: readonly OciSeccompArg[];
  readonly includes?: When;
  readonly excludes?: When;
}

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface OciSeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls: OciSeccompSyscall[];
}

const w = (s: string): string[] => s.trim().split(/\s+/);

/** Allowed for everyone: ordinary process work. Grouped only for reading. */
const UNCONDITIONAL: Record<string, string[]> = {
  files: w(`access faccessat faccessat2 open openat openat2 creat close close_range read readv pread64
    preadv preadv2 write writev pwrite64 pwritev pwritev2 lseek _llseek dup dup2 dup3 fcntl fcntl64
    ftruncate ftruncate64 truncate truncate64 fallocate fadvise64 fadvise64_64 readahead flock fsync
    fdatasync sync syncfs sync_file_range copy_file_range sendfile sendfile64 splice tee vmsplice
    ioctl pipe pipe2 memfd_create memfd_secret name_to_handle_at`),
  paths: w(`chdir fchdir getcwd mkdir mkdirat mknod mknodat rmdir rename renameat renameat2 link linkat
    symlink symlinkat unlink unlinkat readlink readlinkat getdents getdents64 umask`),
  metadata: w(`stat stat64 lstat lstat64 fstat fstat64 fstatat64 newfstatat statx statfs statfs64 fstatfs
    fstatfs64 chmod fchmod fchmodat chown chown32 fchown fchown32 fchownat lchown lchown32 utime utimes
    utimensat utimensat_time64 futimesat`),
  xattrs: w(`getxattr lgetxattr fgetxattr setxattr lsetxattr fsetxattr listxattr llistxattr flistxattr
    removexattr lremovexattr fremovexattr`),
  events: w(`poll ppoll ppoll_time64 select _newselect pselect6 pselect6_time64 epoll_create epoll_create1
    epoll_ctl epoll_ctl_old epoll_wait epoll_wait_old epoll_pwait epoll_pwait2 eventfd eventfd2
    inotify_init inotify_init1 inotify_add_watch inotify_rm_watch fanotify_mark signalfd signalfd4
    timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64`),
  asyncIo: w(`io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents io_pgetevents_time64
    io_uring_setup io_uring_enter io_uring_register ioprio_get ioprio_set`),
  memory: w(`brk mmap mmap2 munmap mremap mprotect madvise mincore msync mlock mlock2 mlockall munlock
    munlockall remap_file_pages membarrier pkey_alloc pkey_free pkey_mprotect`),
  processes: w(`fork vfork execve execveat exit exit_group wait4 waitid waitpid kill tkill tgkill
    pidfd_open pidfd_send_signal process_mrelease getpid getppid gettid getpgid setpgid getpgrp getsid
    setsid prctl capget capset seccomp set_tid_address set_robust_list get_robust_list futex
    futex_time64 futex_waitv rseq get_thread_area set_thread_area restart_syscall getcpu uname sysinfo
    getrandom landlock_create_ruleset landlock_add_rule landlock_restrict_self`),
  credentials: w(`getuid getuid32 geteuid geteuid32 getgid getgid32 getegid getegid32 getresuid getresuid32
    getresgid getresgid32 getgroups getgroups32 setuid setuid32 setgid setgid32 setreuid setreuid32
    setregid setregid32 setresuid setresuid32 setresgid setresgid32 setfsuid setfsuid32 setfsgid
    setfsgid32 setgroups setgroups32`),
  limits: w(`getrlimit ugetrlimit setrlimit prlimit64 getrusage getpriority setpriority times`),
  signals: w(`rt_sigaction rt_sigprocmask rt_sigpending rt_sigqueueinfo rt_tgsigqueueinfo rt_sigreturn
    rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 sigaltstack sigprocmask sigreturn pause alarm`),
  time: w(`time gettimeofday clock_gettime clock_gettime64 clock_getres clock_getres_time64 clock_nanosleep
    clock_nanosleep_time64 nanosleep adjtimex clock_adjtime clock_adjtime64 getitimer setitimer
    timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64`),
  scheduling: w(`sched_yield sched_getaffinity sched_setaffinity sched_getattr sched_setattr sched_getparam
    sched_setparam sched_getscheduler sched_setscheduler sched_get_priority_max sched_get_priority_min
    sched_rr_get_interval sched_rr_get_interval_time64`),
  sysvIpc: w(`ipc msgget msgctl msgsnd msgrcv semget semctl semop semtimedop semtimedop_time64 shmget shmctl
    shmat shmdt mq_open mq_unlink mq_notify mq_getsetattr mq_timedsend mq_timedsend_time64
    mq_timedreceive mq_timedreceive_time64`),
  network: w(`socketcall socketpair bind connect listen accept accept4 getsockname getpeername getsockopt
    setsockopt shutdown send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg recvmmsg_time64`),
};

const CLONE_NEW_FLAGS = 0x7e020000; // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET

const eq = (index: number, value: number): OciSeccompArg => ({ index, value, op: 'SCMP_CMP_EQ' });

const RULES: readonly Rule[] = [
  ...Object.entries(UNCONDITIONAL).map(([why, names]) => ({ why, names })),
  {
    why: 'cross-process memory and tracing: kernels before 4.8 let ptrace bypass seccomp',
    names: ['process_vm_readv', 'process_vm_writev', 'ptrace'],
  },
  {
    why: 'sockets of every family but AF_VSOCK (40)',
    names: ['socket'],
    args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }],
  },
  // personality(2): only the harmless domains (Linux, Linux32, UNAME26 variants, and the query).
  ...[0, 8, 0x20000, 0x20008, 0xffffffff].map((v) => ({
    why: 'personality query/linux',
    names: ['personality'],
    args: [eq(0, v)],
  })),
  { why: 'ppc64le extras', names: ['sync_file_range2', 'swapcontext'], includes: { arches: ['ppc64le'] } },
  {
    why: 'arm extras',
    names: [
      'arm_fadvise64_64',
      'arm_sync_file_range',
      'sync_file_range2',
      'breakpoint',
      'cacheflush',
      'set_tls',
    ],
    includes: { arches: ['arm', 'arm64'] },
  },
  { why: 'x86-64 TLS', names: ['arch_prctl'], includes: { arches: ['amd64', 'x32'] } },
  { why: 'x86 LDT', names: ['modify_ldt'], includes: { arches: ['amd64', 'x32', 'x86'] } },
  {
    why: 's390 extras',
    names: ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'],
    includes: { arches: ['s390', 's390x'] },
  },
  { why: 'riscv extras', names: ['riscv_flush_icache'], includes: { arches: ['riscv64'] } },
  // Capability-gated: the kernel would check the capability anyway; seccomp narrows the attack surface.
  { why: 'open by handle', names: ['open_by_handle_at'], includes: { caps: ['CAP_DAC_READ_SEARCH'] } },
  {
    why: 'mounts, namespaces, bpf, tracing: CAP_SYS_ADMIN work',
    names: w(`bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr
      move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog
      umount umount2 unshare`),
    includes: { caps: ['CAP_SYS_ADMIN'] },
  },
  {
    why: 'clone without any CLONE_NEW* flag (new namespaces need CAP_SYS_ADMIN)',
    names: ['clone'],
    args: [{ index: 0, value: CLONE_NEW_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
    excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
  },
  {
    why: 's390 passes clone flags second',
    names: ['clone'],
    args: [{ index: 1, value: CLONE_NEW_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
    includes: { arches: ['s390', 's390x'] },
    excludes: { caps: ['CAP_SYS_ADMIN'] },
  },
  {
    why: 'clone3 flags live in memory seccomp cannot read: ENOSYS makes libc fall back to clone',
    names: ['clone3'],
    action: 'SCMP_ACT_ERRNO',
    errnoRet: 38,
    excludes: { caps: ['CAP_SYS_ADMIN'] },
  },
  { why: 'reboot', names: ['reboot'], includes: { caps: ['CAP_SYS_BOOT'] } },
  { why: 'chroot', names: ['chroot'], includes: { caps: ['CAP_SYS_CHROOT'] } },
  {
    why: 'kernel modules',
    names: ['delete_module', 'init_module', 'finit_module'],
    includes: { caps: ['CAP_SYS_MODULE'] },
  },
  { why: 'process accounting', names: ['acct'], includes: { caps: ['CAP_SYS_PACCT'] } },
  {
    why: 'tracing other processes',
    names: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
    includes: { caps: ['CAP_SYS_PTRACE'] },
  },
  { why: 'raw I/O ports', names: ['iopl', 'ioperm'], includes: { caps: ['CAP_SYS_RAWIO'] } },
  {
    why: 'setting the clock',
    names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
    includes: { caps: ['CAP_SYS_TIME'] },
  },
  { why: 'tty hangup', names: ['vhangup'], includes: { caps: ['CAP_SYS_TTY_CONFIG'] } },
  {
    why: 'NUMA policy',
    names: ['get_mempolicy', 'mbind', 'set_mempolicy'],
    includes: { caps: ['CAP_SYS_NICE'] },
  },
  { why: 'kernel log', names: ['syslog'], includes: { caps: ['CAP_SYSLOG'] } },
  { why: 'bpf', names: ['bpf'], includes: { caps: ['CAP_BPF'] } },
  { why: 'perf', names: ['perf_event_open'], includes: { caps: ['CAP_PERFMON'] } },
];

/** Node's process.arch → Go arch name, and the seccomp architectures a profile for it must list. */
const ARCHES: Record<string, { goArch: string; scmp: string[] }> = {
  x64: { goArch: 'amd64', scmp: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
  arm64: { goArch: 'arm64', scmp: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] },
  s390x: { goArch: 's390x', scmp: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'] },
  riscv64: { goArch: 'riscv64', scmp: ['SCMP_ARCH_RISCV64'] },
  ppc64: { goArch: 'ppc64le', scmp: ['SCMP_ARCH_PPC64LE'] },
};

function matches(when: When | undefined, arch: string, caps: ReadonlySet<string>): boolean {
  if (!when) return true;
  if (when.arches && !when.arches.includes(arch)) return false;
  if (when.caps && !when.caps.every((c) => caps.has(c))) return false;
  return true;
}

function excluded(when: When | undefined, arch: string, caps: ReadonlySet<string>): boolean {
  if (!when) return false;
  if (when.arches?.includes(arch)) return true;
  if (when.caps?.some((c) => caps.has(c))) return true;
  return false;
}

/** The default profile as an OCI `linux.seccomp` object for a Node arch and the container's capabilities. */
export function defaultSeccomp(caps: readonly string[], nodeArch: string = process.arch): OciSeccomp {
  const a = ARCHES[nodeArch] ?? { goArch: nodeArch, scmp: [] };
  const have = new Set(caps);
  const syscalls: OciSeccompSyscall[] = [];
  for (const r of RULES) {
    if (!matches(r.includes, a.goArch, have) || excluded(r.excludes, a.goArch, have)) continue;
    syscalls.push({
      names: [...r.names],
      action: r.action ?? 'SCMP_ACT_ALLOW',
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
      ...(r.args ? { args: r.args.map((x) => ({ ...x })) } : {}),
    });
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    ...(a.scmp.length ? { architectures: a.scmp } : {}),
    syscalls,
  };
}

/**
 * A user-supplied profile (`--security-opt seccomp=<json>`) in Docker's format, resolved the same way:
 * rules whose includes/excludes do not fit this container are dropped; archMap picks architectures.
 */
export function resolveSeccompProfile(
  profile: unknown,
  caps: readonly string[],
  nodeArch: string = process.arch,
): OciSeccomp {
  if (!profile || typeof profile !== 'object' || Array.isArray(profile))
    throw new Error('the profile must be a JSON object');
  const p = profile as Record<string, unknown>;
  if (typeof p.defaultAction !== 'string') throw new Error('the profile has no "defaultAction" string');
  const a = ARCHES[nodeArch] ?? { goArch: nodeArch, scmp: [] };
  const have = new Set(caps);
  const rules = p.syscalls ?? [];
  if (!Array.isArray(rules)) throw new Error('"syscalls" must be a list');
  const syscalls: OciSeccompSyscall[] = [];
  for (const raw of rules as Record<string, unknown>[]) {
    const names = raw.names ?? (typeof raw.name === 'string' ? [raw.name] : undefined);
    if (!Array.isArray(names) || typeof raw.action !== 'string')
      throw new Error('each entry of "syscalls" needs "names" and "action"');
    const inc = raw.includes as When | undefined;
    const exc = raw.excludes as When | undefined;
    if (!matches(inc, a.goArch, have) || excluded(exc, a.goArch, have)) continue;
    syscalls.push({
      names: names as string[],
      action: raw.action,
      ...(typeof raw.errnoRet === 'number' ? { errnoRet: raw.errnoRet } : {}),
      ...(Array.isArray(raw.args) && raw.args.length ? { args: raw.args as OciSeccompArg[] } : {}),
    });
  }
  let architectures: string[] | undefined;
  if (Array.isArray(p.architectures)) architectures = p.architectures as string[];
  else if (Array.isArray(p.archMap)) {
    const mine = (p.archMap as { architecture: string; subArchitectures?: string[] }[]).find(
      (m) => m.architecture === a.scmp[0],
    );
    if (mine) architectures = [mine.architecture, ...(mine.subArchitectures ?? [])];
  }
  return {
    defaultAction: p.defaultAction,
    ...(typeof p.defaultErrnoRet === 'number' ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    ...(architectures ? { architectures } : {}),
    syscalls,
  };
}
