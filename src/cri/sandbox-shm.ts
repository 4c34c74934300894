// A pod's /dev/shm: one tmpfs per pod sandbox with its own IPC namespace, which the infra
// process and every container of the pod bind at /dev/shm (so POSIX shared memory is shared
// within the pod, as with containerd: 64 MiB, nosuid, nodev, noexec, mode 1777). It lives
// under the exec root, never inside the sandbox's data folder, so removing that folder can
// never walk into a mounted tmpfs.
import { promises as fsp } from 'node:fs';
import { cmd, tryCmd } from '../network/command.ts';

/** containerd's default pod shm size. */
export const POD_SHM_SIZE = '65536k';

export async function mountPodShm(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await cmd('mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,mode=1777,size=${POD_SHM_SIZE}`, 'shm', dir]);
}

/** Unmounts (if mounted) and removes the folder; an absent one is fine. */
export async function unmountPodShm(dir: string): Promise<void> {
  const mounted = await isMountPoint(dir);
  if (mounted) await tryCmd('umount', ['-l', dir]);
  // rmdir, not rm -r: if the unmount did not happen, the tmpfs's files stay untouched.
  await fsp.rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

async function isMountPoint(dir: string): Promise<boolean> {
  const mounts = await fsp.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return mounts.split('\n').some((l) => l.split(' ')[4] === dir);
}
