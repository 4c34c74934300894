// The container side of volumes and mounts: at create, Binds / Mounts / VolumesFrom / Tmpfs and
// the image's VOLUMEs become the record's mount points (volumes created and counted, bind
// sources checked); at start they become OCI mounts (option volumes mounted, image content
// copied into empty volumes); at exit and removal the volumes are let go. Volume storage itself
// lives in src/volumes/.
import { promises as fsp } from 'node:fs';
import { InvalidArgumentError, NotFoundError } from '../errdefs/index.ts';
import type { OciMount } from '../runtime/index.ts';
import {
  cleanTarget,
  type LocalVolumes,
  type MountRequest,
  parseApiMount,
  parseBind,
  parseVolumesFrom,
} from '../volumes/index.ts';
import type { ContainerRecord, HostConfig, MountPoint } from './record.ts';
import { resolveInRoot } from './rootfs.ts';
import type { ContainerStore } from './store.ts';

function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new InvalidArgumentError(
    'INVALID_PARAMETER',
    `invalid HostConfig.${field}: expected a list of strings`,
  );
}

type Planned = { kind: 'request'; req: MountRequest } | { kind: 'copy'; mp: MountPoint };

/**
 * Which mounts a create request asks for, by destination, following Docker's precedence:
 * `--volumes-from` first, overridden by Binds, then Mounts (a duplicate destination among
 * those two is an error), then an anonymous volume for each VOLUME path still free.
 */
export function planMounts(
  hostConfig: HostConfig,
  volumePaths: readonly string[],
  findContainer: (ref: string) => ContainerRecord,
): Map<string, Planned> {
  const plan = new Map<string, Planned>();
  for (const spec of strings(hostConfig.VolumesFrom, 'VolumesFrom')) {
    const { container, mode } = parseVolumesFrom(spec);
    let src: ContainerRecord;
    try {
      src = findContainer(container);
    } catch (err) {
      if (err instanceof NotFoundError)
        throw new NotFoundError('CONTAINER_NOT_FOUND', `No such container: ${container} (--volumes-from)`);
      throw err;
    }
    for (const mp of src.mounts ?? []) {
      plan.set(mp.Destination, { kind: 'copy', mp: { ...mp, RW: mp.RW && mode !== 'ro' } });
    }
  }
  const explicit = new Set<string>();
  const add = (req: MountRequest) => {
    if (explicit.has(req.target))
      throw new InvalidArgumentError('DUPLICATE_MOUNT', `Duplicate mount point: ${req.target}`);
    explicit.add(req.target);
    plan.set(req.target, { kind: 'request', req });
  };
  for (const b of strings(hostConfig.Binds, 'Binds')) add(parseBind(b));
  const mounts = hostConfig.Mounts;
  if (mounts !== undefined && mounts !== null && !Array.isArray(mounts))
    throw new InvalidArgumentError('INVALID_PARAMETER', 'invalid HostConfig.Mounts: expected a list');
  for (const m of (mounts as unknown[] | null | undefined) ?? []) add(parseApiMount(m));
  const tmpfs = new Set(
    Object.keys(hostConfig.Tmpfs ?? {}).map((t) => cleanTarget(t, 'invalid --tmpfs destination')),
  );
  for (const t of tmpfs) {
    if (explicit.has(t)) throw new InvalidArgumentError('DUPLICATE_MOUNT', `Duplicate mount point: ${t}`);
    plan.delete(t);
  }
  for (const raw of volumePaths) {
    const target = cleanTarget(raw, 'invalid VOLUME path');
    if (plan.has(target) || tmpfs.has(target)) continue;
    plan.set(target, {
      kind: 'request',
      req: { type: 'volume', source: '', target, readOnly: false, noCopy: false, mode: '', fromBind: false },
    });
  }
  return plan;
}

/**
 * At create: turns the plan into mount points, creating volumes and registering the container
 * as their user. All or nothing: on failure what this call acquired or created is undone.
 */
export async function resolveMounts(
  volumes: LocalVolumes | undefined,
  store: ContainerStore,
  id: string,
  hostConfig: HostConfig,
  volumePaths: readonly string[],
): Promise<MountPoint[]> {
  const plan = planMounts(hostConfig, volumePaths, (ref) => store.find(ref));
  const out: MountPoint[] = [];
  try {
    for (const p of plan.values()) out.push(await materialise(volumes, id, p));
  } catch (err) {
    await releaseMounts(volumes, id, out, true);
    throw err;
  }
  return out;
}

function needVolumes(v: LocalVolumes | undefined): LocalVolumes {
  if (!v) throw new InvalidArgumentError('NO_VOLUMES', 'volumes are not available in this daemon');
  return v;
}

async function materialise(volumes: LocalVolumes | undefined, id: string, p: Planned): Promise<MountPoint> {
  if (p.kind === 'copy') {
    if (p.mp.Type === 'volume') await needVolumes(volumes).acquire(p.mp.Name!, id);
    return p.mp;
  }
  const r = p.req;
  switch (r.type) {
    case 'bind': {
      const st = await fsp.stat(r.source).catch(() => undefined);
      if (!st) {
        if (!r.createSource)
          throw new InvalidArgumentError(
            'BIND_SOURCE_MISSING',
            `invalid mount config for type "bind": bind source path does not exist: ${r.source}`,
          );
        // `-v /host:/p` creates a missing host directory, as Docker does.
        await fsp.mkdir(r.source, { recursive: true, mode: 0o755 });
      }
      return {
        Type: 'bind',
        Source: r.source,
        Destination: r.target,
        Mode: r.mode,
        RW: !r.readOnly,
        Propagation: r.propagation,
        ...(r.recursive ? {} : { NonRecursive: true }),
      };
    }
    case 'volume': {
      const { volume } = await needVolumes(volumes).acquire(r.source || undefined, id, {
        anonymous: r.source === '',
        ...(r.labels ? { labels: r.labels } : {}),
        ...(r.driverOpts ? { options: r.driverOpts } : {}),
      });
      return {
        Type: 'volume',
        Name: volume.name,
        Source: volume.mountpoint,
        Destination: r.target,
        Mode: r.mode,
        RW: !r.readOnly,
        Propagation: '',
        CopyData: !r.noCopy,
        ...(r.source === '' ? { Anonymous: true } : {}),
      };
    }
    case 'tmpfs':
      return {
        Type: 'tmpfs',
        Source: '',
        Destination: r.target,
        Mode: '',
        RW: !r.readOnly,
        Propagation: '',
        ...(r.sizeBytes ? { TmpfsSize: r.sizeBytes } : {}),
        ...(r.mode !== undefined ? { TmpfsMode: r.mode } : {}),
      };
  }
}

/** At removal (or a failed create): lets go of the volumes; anonymous ones go too when asked. */
export async function releaseMounts(
  volumes: LocalVolumes | undefined,
  id: string,
  mounts: readonly MountPoint[],
  removeAnonymous: boolean,
): Promise<void> {
  if (!volumes) return;
  for (const mp of mounts) {
    if (mp.Type !== 'volume' || !mp.Name) continue;
    volumes.release(mp.Name, id);
    // Still used by another container (--volumes-from): kept, as in Docker.
    if (removeAnonymous && mp.Anonymous && volumes.users(mp.Name).length === 0)
      await volumes.remove(mp.Name).catch(() => {});
  }
}

/** Start-up: every container record counts as a user of its volumes again. */
export function referenceMounts(volumes: LocalVolumes | undefined, recs: readonly ContainerRecord[]): void {
  for (const rec of recs)
    for (const mp of rec.mounts ?? [])
      if (mp.Type === 'volume' && mp.Name) volumes?.reference(mp.Name, rec.id);
}

/**
 * At start, with the root filesystem mounted at `rootfs`: the OCI mounts for the record's
 * mount points, parents before children. Option volumes are mounted; an empty volume gets the
 * image's content at its destination (ownership and modes kept) unless `nocopy`.
 */
export async function startMounts(
  volumes: LocalVolumes | undefined,
  rec: ContainerRecord,
  rootfs: string,
): Promise<OciMount[]> {
  const out: OciMount[] = [];
  for (const mp of rec.mounts ?? []) {
    const ro = mp.RW ? [] : ['ro'];
    switch (mp.Type) {
      case 'volume': {
        const data = await needVolumes(volumes).activate(mp.Name!);
        if (mp.CopyData) await copyUp(needVolumes(volumes), mp.Name!, rootfs, mp.Destination);
        out.push({
          destination: mp.Destination,
          type: 'bind',
          source: data,
          options: ['rbind', 'rprivate', ...ro],
        });
        break;
      }
      case 'bind': {
        if (!(await fsp.stat(mp.Source).catch(() => undefined)))
          throw new InvalidArgumentError(
            'BIND_SOURCE_MISSING',
            `error while mounting ${mp.Destination}: bind source path does not exist: ${mp.Source}`,
          );
        out.push({
          destination: mp.Destination,
          type: 'bind',
          source: mp.Source,
          options: [mp.NonRecursive ? 'bind' : 'rbind', mp.Propagation || 'rprivate', ...ro],
        });
        break;
      }
      case 'tmpfs':
        out.push({
          destination: mp.Destination,
          type: 'tmpfs',
          source: 'tmpfs',
          options: [
            'nosuid',
            'nodev',
            'noexec',
            ...(mp.TmpfsSize ? [`size=${mp.TmpfsSize}`] : []),
            ...(mp.TmpfsMode !== undefined ? [`mode=${mp.TmpfsMode.toString(8)}`] : []),
            ...ro,
          ],
        });
        break;
    }
  }
  return out;
}

/** Mounts ordered so a parent directory is mounted before anything inside it. */
export function sortMounts<T extends { destination: string }>(mounts: readonly T[]): T[] {
  const depth = (m: T) => m.destination.split('/').filter(Boolean).length;
  return [...mounts].sort((a, b) => depth(a) - depth(b));
}

/**
 * Docker's copy-up: the container's content at `dest` goes into the volume while the volume
 * is empty. The path is resolved inside the rootfs, so image symlinks cannot point it at the host.
 */
async function copyUp(volumes: LocalVolumes, name: string, rootfs: string, dest: string): Promise<void> {
  const src = await resolveInRoot(rootfs, dest);
  const st = await fsp.lstat(src).catch(() => undefined);
  if (st?.isDirectory()) await volumes.populate(name, src);
}

/**
 * At exit: an option volume (tmpfs, bind of a device) is unmounted when no other running
 * container uses it, so a tmpfs volume's content ends with its last user, as in Docker.
 */
export async function deactivateMounts(
  volumes: LocalVolumes | undefined,
  store: ContainerStore,
  rec: ContainerRecord,
): Promise<void> {
  if (!volumes) return;
  for (const mp of rec.mounts ?? []) {
    if (mp.Type !== 'volume' || !mp.Name || !volumes.has(mp.Name)) continue;
    if (Object.keys(volumes.get(mp.Name).options).length === 0) continue;
    const othersRunning = store
      .all()
      .some(
        (c) =>
          c.id !== rec.id &&
          (c.state.status === 'running' || c.state.status === 'paused') &&
          (c.mounts ?? []).some((m) => m.Type === 'volume' && m.Name === mp.Name),
      );
    if (!othersRunning) await volumes.deactivate(mp.Name);
  }
}
