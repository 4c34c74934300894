// Turns a container record into an OCI bundle: the overlay root filesystem on top of the image
// layers, /etc/hostname, /etc/hosts and /etc/resolv.conf owned by Berth, and config.json.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteFile } from '../base/atomic.ts';
import { span } from '../base/trace.ts';
import { chainIds, digestHex } from '../oci/digest.ts';
import {
  generateSpec,
  type HostResourceFacts,
  type OciMount,
  planResources,
  type ResourceFields,
  replaceOrAppendEnv,
  resolveUser,
} from '../runtime/index.ts';
import { mountOverlay, unmount } from '../snapshots/index.ts';
import { deactivateMounts, sortMounts, startMounts } from './mounts.ts';
import { type ContainerNet, networkMode } from './networking.ts';
import type { ContainerRecord } from './record.ts';
import { mkdirInRoot, readInRoot } from './rootfs.ts';
import { rootfsBusy } from './rootfs-users.ts';
import { securityInputs } from './security.ts';
import type { ContainerServiceDeps } from './deps.ts';
import { parseExtraHost } from './verify.ts';
import { containerCgroupsPath } from './cgroup-path.ts';

/** The files Berth writes per container and bind-mounts over the image's: [file, destination]. */
export const ETC_FILES = [
  ['hostname', '/etc/hostname'],
  ['hosts', '/etc/hosts'],
  ['resolv.conf', '/etc/resolv.conf'],
] as const;

/**
 * Those files as the container sees them, for cp: `--network container:X` shares X's, and a
 * file not written yet (never started) leaves the image's own in view.
 */
export async function etcFileMounts(
  deps: Pick<ContainerServiceDeps, 'store'>,
  rec: ContainerRecord,
): Promise<{ Type: 'bind'; Source: string; Destination: string; RW: boolean }[]> {
  const mode = networkMode(rec);
  let owner = rec.id;
  if (mode.startsWith('container:')) {
    try {
      owner = deps.store.find(mode.slice('container:'.length)).id;
    } catch {
      return []; // X is gone: its files with it
    }
  }
  const dir = deps.store.dir(owner);
  const out = [];
  for (const [name, dest] of ETC_FILES) {
    const source = path.join(dir, name);
    const st = await fsp.lstat(source).catch(() => undefined);
    if (st?.isFile()) out.push({ Type: 'bind' as const, Source: source, Destination: dest, RW: true });
  }
  return out;
}

/** Static tini from Debian's `tini` package (installed by scripts/setup.sh). */
export const INIT_BINARY = '/usr/bin/tini-static';

export function rootfsPaths(dir: string) {
  return {
    upper: path.join(dir, 'rootfs', 'diff'),
    work: path.join(dir, 'rootfs', 'work'),
    merged: path.join(dir, 'rootfs', 'merged'),
  };
}

/** Image layer directories under the container, topmost first, relative to `layersRoot`. */
export async function lowerDirsOf(
  deps: Pick<ContainerServiceDeps, 'images' | 'layers'>,
  rec: ContainerRecord,
): Promise<string[]> {
  const cfg = await deps.images.config(rec.imageId);
  const top = chainIds(cfg.rootfs.diff_ids).at(-1);
  return top ? deps.layers.lowerDirs(digestHex(top)) : [];
}

/** Mounts the container's overlay root filesystem at `rootfs/merged`. */
export async function mountRootfs(
  deps: Pick<ContainerServiceDeps, 'store' | 'images' | 'layers' | 'layersRoot'>,
  rec: ContainerRecord,
): Promise<void> {
  const { upper, work, merged } = rootfsPaths(deps.store.dir(rec.id));
  const lower = await span('rootfs.lowerdirs', () => lowerDirsOf(deps, rec));
  await span('rootfs.overlay-mount', () =>
    mountOverlay({ lower, layersRoot: deps.layersRoot, upper, work, target: merged }),
  );
}

async function hostResolvConf(): Promise<string> {
  const text = await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  // Loopback resolvers on the host are unreachable from a container (as Docker does).
  const kept = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  return `${kept.join('\n').trim()}\n`;
}

/**
 * resolv.conf: the embedded DNS on user networks, else --dns or the host's servers; --dns-search
 * and --dns-option replace the host's search and options lines.
 */
async function resolvConf(rec: ContainerRecord, net: ContainerNet | undefined): Promise<string> {
  const h = rec.hostConfig;
  const dns = (h.Dns as string[] | null | undefined) ?? [];
  const search = (h.DnsSearch as string[] | null | undefined) ?? [];
  const options = (h.DnsOptions as string[] | null | undefined) ?? [];
  const host = await hostResolvConf();
  if (!net?.dns && dns.length === 0 && search.length === 0 && options.length === 0) return host;
  const lines = host.split('\n').filter((l) => /\S/.test(l));
  const keep = (kw: string, mine: string[]) =>
    mine.length > 0 ? [`${kw} ${mine.join(' ')}`] : lines.filter((l) => l.trim().startsWith(kw));
  const servers = net?.dns
    ? [`nameserver ${net.dns}`]
    : dns.length > 0
      ? dns.map((d) => `nameserver ${d}`)
      : lines.filter((l) => l.trim().startsWith('nameserver'));
  return `${[...servers, ...keep('search', search), ...keep('options', options)].join('\n')}\n`;
}

export async function prepareBundle(
  deps: Pick<
    ContainerServiceDeps,
    'store' | 'images' | 'layers' | 'layersRoot' | 'cgroupParent' | 'volumes' | 'defaultUlimits'
  >,
  rec: ContainerRecord,
  facts: HostResourceFacts,
  net?: ContainerNet,
): Promise<void> {
  const dir = deps.store.dir(rec.id);
  // Validated at create; re-planned here so host changes (CPUs gone offline) fail the start clearly.
  // The daemon's default ulimits fill in the limits the container does not set (dockerd's
  // mergeUlimits, at each start: inspect keeps showing only the container's own).
  const own = (rec.hostConfig as ResourceFields).Ulimits ?? [];
  const Ulimits = [...own, ...(deps.defaultUlimits ?? []).filter((d) => !own.some((u) => u.Name === d.Name))];
  const plan = planResources({ ...(rec.hostConfig as ResourceFields), Ulimits }, facts);
  const { merged } = rootfsPaths(dir);
  // A filesystem operation (cp, export) may hold the rootfs mounted already: keep its mount.
  if (!rootfsBusy(dir)) {
    await span('rootfs.unmount-stale', () => unmount(merged));
    await mountRootfs(deps, rec);
  }

  const c = rec.config;
  const [passwd, group] = await span('bundle.passwd-group', () =>
    Promise.all([readInRoot(merged, '/etc/passwd'), readInRoot(merged, '/etc/group')]),
  );
  const user = resolveUser(
    c.User,
    { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) },
    rec.hostConfig.GroupAdd ?? [],
  );
  const cwd = c.WorkingDir || '/';
  if (cwd !== '/') await mkdirInRoot(merged, cwd);

  const mode = networkMode(rec);
  // `--network container:X` is X's network identity: its hostname and X's own hostname,
  // hosts and resolv.conf files (bind-mounted, so later changes to X's show through), as Docker.
  const joined = mode.startsWith('container:') ? deps.store.find(mode.slice('container:'.length)) : undefined;
  const hostname = joined ? joined.config.Hostname : c.Hostname;
  const domainname = joined ? joined.config.Domainname : c.Domainname;
  const fqdn = c.Domainname ? `${c.Hostname}.${c.Domainname}` : c.Hostname;
  // `--network host` sees the host's names, as its processes share the host's addresses.
  const hostHosts =
    mode === 'host'
      ? (await fsp.readFile('/etc/hosts', 'utf8').catch(() => '')).split('\n').filter((l) => /\S/.test(l))
      : undefined;
  const hosts = hostHosts ?? [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    // Checked at create (verify.ts); parsed the same way here.
    ...(rec.hostConfig.ExtraHosts ?? []).flatMap((h) => {
      const p = parseExtraHost(h);
      return p ? [`${p.ip}\t${p.host}`] : [];
    }),
    ...(net?.links ?? []),
    // The container's own address (first network) names it, as in Docker.
    `${net?.hosts[0] ?? '127.0.1.1'}\t${fqdn === c.Hostname ? c.Hostname : `${fqdn} ${c.Hostname}`}`,
  ];
  if (hostHosts)
    for (const h of rec.hostConfig.ExtraHosts ?? []) {
      const p = parseExtraHost(h);
      if (p) hosts.push(`${p.ip}\t${p.host}`);
    }
  await span('bundle.etc-files', async () =>
    Promise.all([
      atomicWriteFile(path.join(dir, 'hostname'), `${c.Hostname}\n`, { sync: false }),
      atomicWriteFile(path.join(dir, 'hosts'), `${hosts.join('\n')}\n`, { sync: false }),
      atomicWriteFile(path.join(dir, 'resolv.conf'), await resolvConf(rec, net), { sync: false }),
    ]),
  );
  const filesDir = joined ? deps.store.dir(joined.id) : dir;
  const bind = (name: string, dest: string): OciMount => ({
    destination: dest,
    type: 'bind',
    source: path.join(filesDir, name),
    options: ['rbind', 'rprivate'],
  });
  const [hostnameFile, hostsFile, resolvFile] = ETC_FILES;
  const tmpfs: OciMount[] = Object.entries(rec.hostConfig.Tmpfs ?? {}).map(([dest, opts]) => ({
    destination: dest,
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'nodev', 'noexec', ...opts.split(',').filter(Boolean)],
  }));
  const userMounts = await span('bundle.user-mounts', () => startMounts(deps.volumes, rec, merged));
  const baseEnv = [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `HOSTNAME=${hostname}`,
    ...(c.Tty ? ['TERM=xterm'] : []),
    ...(net?.linkEnv ?? []),
  ];
  const env = replaceOrAppendEnv(baseEnv, c.Env);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  // --init: a tiny init (Debian's static tini) as PID 1 that reaps zombies and forwards signals,
  // bind-mounted where Docker puts its own.
  const init = rec.hostConfig.Init === true ? INIT_BINARY : undefined;
  const initMounts: OciMount[] = init
    ? [{ destination: '/sbin/docker-init', type: 'bind', source: init, options: ['rbind', 'ro'] }]
    : [];
  const [h, w] = rec.hostConfig.ConsoleSize ?? [0, 0];
  const consoleSize = h > 0 && w > 0 ? { height: h, width: w } : undefined;
  // Security decides the ipc/pid/uts namespaces, networking the network one.
  const security = await span('bundle.security', () => securityInputs(rec, (ref) => deps.store.find(ref)));
  const namespaces = { ...(security.namespaces ?? {}), ...(net?.netns ? { network: net.netns } : {}) };
  const spec = span('bundle.spec', () =>
    generateSpec({
      rootfs: merged,
      readonlyRootfs: Boolean(rec.hostConfig.ReadonlyRootfs),
      args: init ? ['/sbin/docker-init', '--', rec.path, ...rec.args] : [rec.path, ...rec.args],
      env,
      cwd,
      user,
      terminal: c.Tty,
      ...(consoleSize ? { consoleSize } : {}),
      hostname,
      ...(domainname ? { domainname } : {}),
      cgroupsPath: containerCgroupsPath(rec, deps.cgroupParent),
      mounts: [
        // Volumes, binds and tmpfs (parents first); a user mount on /etc/hosts & co. wins.
        ...sortMounts([...tmpfs, ...userMounts]),
        ...[bind(...hostnameFile), bind(...hostsFile), bind(...resolvFile)].filter(
          (m) => !userMounts.some((u) => u.destination === m.destination),
        ),
        ...initMounts,
      ],
      ...security,
      namespaces,
      ...(rec.hostConfig.ShmSize ? { shmSize: rec.hostConfig.ShmSize } : {}),
      ...(typeof rec.hostConfig.OomScoreAdj === 'number' ? { oomScoreAdj: rec.hostConfig.OomScoreAdj } : {}),
      resources: plan.resources,
      rlimits: plan.rlimits,
      ...annotationsOf(rec.hostConfig.Annotations),
    }),
  );
  // Regenerated at every start, so no fsync: a torn file is simply rewritten next time.
  await span('bundle.config-write', () =>
    atomicWriteFile(path.join(dir, 'config.json'), JSON.stringify(spec), { sync: false }),
  );
}

export async function teardownRootfs(
  deps: Pick<ContainerServiceDeps, 'store' | 'volumes'>,
  rec: ContainerRecord,
): Promise<void> {
  await span('teardown.user-mounts', () => deactivateMounts(deps.volumes, deps.store, rec));
  const dir = deps.store.dir(rec.id);
  if (rootfsBusy(dir)) return; // the last filesystem operation unmounts
  await span('teardown.unmount', () => unmount(rootfsPaths(dir).merged));
}

/** HostConfig.Annotations as the spec takes them: string values only (the API schema's type). */
function annotationsOf(v: unknown): { annotations?: Record<string, string> } {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return Object.keys(out).length ? { annotations: out } : {};
}
