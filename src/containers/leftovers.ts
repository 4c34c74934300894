// Start-up repair of containers whose record says they are not running: whatever a start
// (or a removal) cut short by a crash left on the host — monitor, runtime state with a waiting
// `runc init`, rootfs and volume mounts, netns and veths, cgroups, exit file — is undone.
import { access, readdir, readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { CgroupPaths } from '../runtime/index.ts';
import type { RuntimeBinding } from '../runtime/conmon.ts';
import { unmount } from '../snapshots/index.ts';
import { teardownRootfs } from './bundle.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerServiceDeps } from './deps.ts';

/**
 * A container whose record says it is not running must hold nothing: a start cut short by a
 * crash (after the rootfs mount, the netns, `runc create` or even `runc start`, before the
 * record said running) left those behind. Each check is a stat or a read unless there is
 * something to undo, so a store full of exited containers starts fast.
 */
export async function settleLeftovers(
  deps: Pick<ContainerServiceDeps, 'store' | 'volumes' | 'runtime' | 'network' | 'log'>,
  cgroup: CgroupPaths,
  rec: ContainerRecord,
  mountinfo: string,
  dir = deps.store.dir(rec.id),
): Promise<void> {
  const { id } = rec;
  let binding: RuntimeBinding;
  try {
    binding = deps.runtime.bind(id, rec.hostConfig.Runtime);
  } catch {
    binding = deps.runtime.runtimeFor(id);
  }
  // The monitor first: with it gone, killing the process writes no exit file a later start
  // would mistake for its own.
  const conmonPid = Number((await readFile(path.join(dir, 'conmon.pid'), 'utf8').catch(() => '')).trim());
  if (conmonPid > 0) {
    const cmdline = await readFile(`/proc/${conmonPid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('conmon') && cmdline.includes(id)) {
      try {
        process.kill(conmonPid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  const hasState = await access(path.join(binding.root, id)).then(
    () => true,
    () => false,
  );
  if (hasState) {
    deps.log('info', 'removing what a cut-short start left', { id });
    await deps.runtime
      .delete(id, true)
      .catch((err) => deps.log('warn', 'runtime delete failed', { id, err: String(err) }));
  }
  if (mountinfo.includes(`${dir}/`)) {
    await teardownRootfs(deps, rec).catch((err) =>
      deps.log('warn', 'unmount failed', { id, err: String(err) }),
    );
    // A removed container's directory was renamed with its mounts: undo those by path.
    const below = mountinfo
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of below) await unmount(m).catch(() => {});
  }
  const net = deps.network;
  if (net) {
    const netnsLeft = await access(net.netnsPath(id)).then(
      () => true,
      () => false,
    );
    if (netnsLeft || net.endpointsOf(id).some((e) => e.ep.vethHost || e.ep.ports))
      await net
        .detach(id)
        .catch((err) => deps.log('warn', 'network detach failed', { id, err: String(err) }));
  }
  if (hasState) await removeCgroup(cgroup);
  await deps.runtime.clearExit(id);
}

/** The container's (empty) cgroup directories, which `runc delete` leaves when it never ran. */
async function removeCgroup(cg: CgroupPaths): Promise<void> {
  const dirs =
    cg.version === 2
      ? [path.dirname(cg.file('', 'x'))]
      : (await readdir('/sys/fs/cgroup').catch(() => [] as string[])).map((c) =>
          path.dirname(cg.file(c, 'x')),
        );
  for (const d of dirs) await rmdir(d).catch(() => {});
}
