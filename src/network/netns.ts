// Pinned network namespaces that belong to no bridge endpoint: a file bind-mounted over a new
// netns (as `ip netns add` makes them), with loopback up. The CRI's pod sandboxes use them, so a
// pod's network outlives its infra process and can be torn down after a crash (and CNI, when it
// comes, configures the same file).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { removeNetns } from './bridge.ts';
import { cmd } from './command.ts';

/** Creates `file` as a new netns with only `lo`, up. One spawn. */
export async function createLoopbackNetns(file: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await fsp.writeFile(file, '', { mode: 0o600 });
  try {
    await cmd('unshare', [`--net=${file}`, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await removeNetns(file);
    throw err;
  }
}

/** Unmounts and deletes a pinned netns; nothing there is fine. */
export async function deleteNetns(file: string): Promise<void> {
  await removeNetns(file);
}
