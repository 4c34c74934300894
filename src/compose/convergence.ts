// `up`: make the engine match the model. Networks and volumes first, then images (one pull per
// image, builds in parallel), then services walked in dependency order, independent ones in
// parallel: each compares its containers' config hash and image with the model and keeps,
// starts, recreates or scales them (Compose v2's convergence), after its depends_on conditions
// hold.
import { ComposeError } from './errors.ts';
import { type ContainerSummary, type ComposeApi, LABEL } from './engine.ts';
import {
  configHash,
  containerName,
  createBody,
  imageName,
  type InjectedFile,
  injectedFiles,
  namespaceServices,
  replicas,
  type Service,
  services,
} from './create.ts';
import type { Project } from './project.ts';

type Obj = Record<string, unknown>;

/** Builds a service's image (the CLI supplies it: packing a context is a CLI concern). */
export interface ImageBuilder {
  (service: string, svc: Service, tag: string): Promise<void>;
  /** Throws (a ComposeError naming the service) when the build cannot be done; called before anything is created. */
  check?(service: string, svc: Service): void;
}

/** The services whose images a build reads (`additional_contexts: {x: service:NAME}`): built first. */
export function buildDependencies(svc: Service): string[] {
  const b = svc.build as Obj | undefined;
  return Object.values((b?.additional_contexts ?? {}) as Obj)
    .map(String)
    .filter((v) => v.startsWith('service:'))
    .map((v) => v.slice('service:'.length));
}

export interface UpOptions {
  readonly services?: readonly string[];
  readonly build?: 'always' | 'never' | 'missing';
  readonly recreate?: 'force' | 'never' | 'diverged';
  readonly noDeps?: boolean;
  readonly scale?: ReadonlyMap<string, number>;
  readonly removeOrphans?: boolean;
  readonly pull?: 'always' | 'missing' | 'never';
  /** Progress lines (`Container p-web-1  Started`). */
  readonly progress: (line: string) => void;
  readonly builder: ImageBuilder;
  readonly signal?: AbortSignal;
  /** Create only (`compose create`). */
  readonly noStart?: boolean;
}

/** The services `up S…` acts on: S and (unless --no-deps) what they depend on, transitively. */
export function selectServices(p: Project, names: readonly string[] | undefined, noDeps = false): string[] {
  const all = services(p);
  if (!names?.length) return Object.keys(all);
  const out = new Set<string>();
  const add = (n: string) => {
    if (!Object.hasOwn(all, n)) throw new ComposeError(`no such service: ${n}`);
    if (out.has(n)) return;
    out.add(n);
    if (noDeps) return;
    for (const d of Object.keys((all[n]!.depends_on as Obj | undefined) ?? {}))
      if (Object.hasOwn(all, d)) add(d);
  };
  for (const n of names) add(n);
  return [...out];
}

/**
 * `restart S…`: S and, transitively, the services that depend on them with `restart: true`
 * (v2's restart.go selects those dependents too). No names: every service.
 */
export function withRestartDependents(p: Project, names: readonly string[]): string[] {
  if (!names.length) return [];
  const all = services(p);
  const out = new Set(names);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [n, svc] of Object.entries(all)) {
      if (out.has(n)) continue;
      const deps = (svc.depends_on ?? {}) as Record<string, Obj>;
      if (Object.entries(deps).some(([d, cfg]) => out.has(d) && cfg.restart === true)) {
        out.add(n);
        grew = true;
      }
    }
  }
  return [...out];
}

/** Runs `fn` for every service after the ones it depends on (within `names`), independent ones at once. */
export async function inDependencyOrder(
  p: Project,
  names: readonly string[],
  fn: (name: string) => Promise<void>,
  reverse = false,
): Promise<void> {
  const all = services(p);
  const set = new Set(names);
  const deps = new Map<string, string[]>();
  for (const n of names) deps.set(n, []);
  for (const n of names) {
    for (const d of Object.keys((all[n]?.depends_on as Obj | undefined) ?? {})) {
      if (!set.has(d)) continue;
      // Up: n waits for d. Down (reverse): d waits for n.
      if (reverse) deps.get(d)!.push(n);
      else deps.get(n)!.push(d);
    }
  }
  const done = new Map<string, Promise<void>>();
  const run = (n: string): Promise<void> => {
    let pr = done.get(n);
    if (!pr) {
      pr = Promise.all(deps.get(n)!.map(run)).then(() => fn(n));
      done.set(n, pr);
    }
    return pr;
  };
  await Promise.all(names.map(run));
}

const nameOf = (c: ContainerSummary) => (c.Names[0] ?? '').replace(/^\//, '');

export async function ensureNetworksAndVolumes(
  api: ComposeApi,
  p: Project,
  progress: (l: string) => void,
): Promise<Map<string, string>> {
  const nets = (p.model.networks ?? {}) as Record<string, Obj>;
  const names = new Map<string, string>();
  await Promise.all(
    Object.entries(nets).map(async ([key, n]) => {
      const name = String(n.name);
      names.set(key, name);
      const found = await api.networkByName(name);
      if (n.external) {
        if (!found)
          throw new ComposeError(
            `network ${name} declared as external, but could not be found: create it with "berth network create ${name}"`,
          );
        return;
      }
      if (found) return;
      const ipam = n.ipam as Obj | undefined;
      await api.createNetwork({
        Name: name,
        Driver: n.driver ?? 'bridge',
        Internal: n.internal === true,
        Attachable: n.attachable === true,
        EnableIPv6: n.enable_ipv6 === true,
        Options: n.driver_opts ?? {},
        Labels: {
          ...((n.labels as Obj) ?? {}),
          [LABEL.project]: p.name,
          [LABEL.network]: key,
          [LABEL.version]: '2',
        },
        CheckDuplicate: true,
        ...(ipam
          ? {
              IPAM: {
                Driver: ipam.driver ?? 'default',
                Config: ((ipam.config as Obj[] | undefined) ?? []).map((c) => ({
                  ...(c.subnet ? { Subnet: c.subnet } : {}),
                  ...(c.gateway ? { Gateway: c.gateway } : {}),
                  ...(c.ip_range ? { IPRange: c.ip_range } : {}),
                })),
              },
            }
          : {}),
      });
      progress(`Network ${name}  Created`);
    }),
  );
  const vols = (p.model.volumes ?? {}) as Record<string, Obj>;
  await Promise.all(
    Object.entries(vols).map(async ([key, v]) => {
      const name = String(v.name);
      const found = await api.volume(name);
      if (v.external) {
        if (!found)
          throw new ComposeError(
            `external volume "${name}" not found: create it with "berth volume create ${name}"`,
          );
        return;
      }
      if (found) return;
      await api.createVolume({
        Name: name,
        Driver: v.driver ?? 'local',
        DriverOpts: v.driver_opts ?? {},
        Labels: {
          ...((v.labels as Obj) ?? {}),
          [LABEL.project]: p.name,
          [LABEL.volume]: key,
          [LABEL.version]: '2',
        },
      });
      progress(`Volume "${name}"  Created`);
    }),
  );
  return names;
}

/** Builds or pulls what the services need; returns service → image ID. One pull per image. */
export async function ensureImages(
  api: ComposeApi,
  p: Project,
  names: readonly string[],
  o: UpOptions,
): Promise<Map<string, string>> {
  const all = services(p);
  const ids = new Map<string, string>();
  const pulls = new Map<string, Promise<string>>();
  // One inspect per image, however many services run it (10 services of busybox: 1 request).
  const inspected = new Map<string, Promise<string | undefined>>();
  const inspectOnce = (ref: string) => {
    let pr = inspected.get(ref);
    if (!pr) {
      pr = api.imageId(ref);
      inspected.set(ref, pr);
    }
    return pr;
  };
  // A build that reads another service's image (additional_contexts service:NAME) waits for it.
  const tasks = new Map<string, Promise<void>>();
  const task = (n: string): Promise<void> => {
    let t = tasks.get(n);
    if (!t) {
      t = Promise.all(
        buildDependencies(all[n]!)
          .filter((d) => Object.hasOwn(all, d))
          .map(task),
      ).then(() => one(n));
      tasks.set(n, t);
    }
    return t;
  };
  const one = async (n: string) => {
    const svc = all[n]!;
    const ref = imageName(p, n, svc);
    let id = await inspectOnce(ref);
    const buildable = svc.build !== undefined;
    if (buildable && o.build !== 'never' && (o.build === 'always' || id === undefined)) {
      await o.builder(n, svc, ref);
      id = await api.imageId(ref);
    } else if (id === undefined || (o.pull === 'always' && !buildable)) {
      if (buildable)
        throw new ComposeError(
          `service "${n}": image ${ref} is not built and --no-build was given: run "berth compose build ${n}"`,
        );
      let pr = pulls.get(ref);
      if (!pr) {
        o.progress(`${n} Pulling`);
        pr = api.pull(ref).then(async () => (await api.imageId(ref)) ?? '');
        pulls.set(ref, pr);
      }
      id = await pr;
      o.progress(`${n} Pulled`);
    }
    if (!id) throw new ComposeError(`service "${n}": image ${ref} not found after pull/build`);
    ids.set(n, id);
  };
  const needed = new Set(names);
  for (const n of names) for (const d of buildDependencies(all[n]!)) if (Object.hasOwn(all, d)) needed.add(d);
  // Every build that cannot be done, and every image --no-build cannot have, is refused before
  // the first build or pull starts (and before `up` creates anything).
  for (const n of needed) {
    const svc = all[n]!;
    if (svc.build === undefined) continue;
    const id = await inspectOnce(imageName(p, n, svc));
    if (o.build === 'never') {
      if (id === undefined)
        throw new ComposeError(
          `service "${n}": image ${imageName(p, n, svc)} is not built and --no-build was given: run "berth compose build ${n}"`,
        );
    } else if (o.build === 'always' || id === undefined) o.builder.check?.(n, svc);
  }
  await Promise.all([...needed].map(task));
  return ids;
}

/** Endpoint settings per network for a service: aliases (the service name and its own), static IPs. */
function endpoints(p: Project, name: string, svc: Service, netNames: Map<string, string>): [string, Obj][] {
  if (svc.network_mode !== undefined) return [];
  const nets = (svc.networks ?? {}) as Record<string, Obj | null>;
  const entries = Object.entries(nets).sort(
    ([, a], [, b]) => Number(b?.priority ?? 0) - Number(a?.priority ?? 0),
  );
  return entries.map(([key, cfg]) => {
    const aliases = [name, ...((cfg?.aliases as string[] | undefined) ?? [])];
    const ipam = {
      ...(cfg?.ipv4_address ? { IPv4Address: cfg.ipv4_address } : {}),
      ...(cfg?.ipv6_address ? { IPv6Address: cfg.ipv6_address } : {}),
    };
    void p;
    return [
      netNames.get(key) ?? key,
      { Aliases: aliases, ...(Object.keys(ipam).length ? { IPAMConfig: ipam } : {}) },
    ];
  });
}

/** Containers of the project's services (not one-off), grouped by service, in number order. */
export async function observed(api: ComposeApi, p: Project): Promise<Map<string, ContainerSummary[]>> {
  const out = new Map<string, ContainerSummary[]>();
  for (const c of await api.containers(p.name, { oneoff: false })) {
    const s = c.Labels[LABEL.service] ?? '';
    out.set(s, [...(out.get(s) ?? []), c]);
  }
  for (const l of out.values())
    l.sort((a, b) => Number(a.Labels[LABEL.number]) - Number(b.Labels[LABEL.number]));
  return out;
}

export async function up(api: ComposeApi, p: Project, o: UpOptions): Promise<void> {
  const names = selectServices(p, o.services, o.noDeps);
  const all = services(p);
  // Secrets and configs from the environment resolve first: a missing variable creates nothing.
  const injected = new Map(names.map((n) => [n, injectedFiles(p, n, all[n]!)]));
  // Images first, as v2 does: a build that cannot be done (refused by the builder's check before
  // any build starts) or fails leaves no network, volume or container behind.
  // The container list is read meanwhile (a read, so a failed build still creates nothing).
  const [images, current] = await Promise.all([ensureImages(api, p, names, o), observed(api, p)]);
  const orphans = [...current.entries()].filter(([s]) => !Object.hasOwn(all, s)).flatMap(([, cs]) => cs);
  if (orphans.length && o.removeOrphans) {
    await Promise.all(
      orphans.map(async (c) => {
        await api.remove(c.Id, { force: true });
        o.progress(`Container ${nameOf(c)}  Removed`);
      }),
    );
  } else if (orphans.length) {
    o.progress(
      `WARN Found orphan containers (${orphans.map(nameOf).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
    );
  }
  const netNames = await ensureNetworksAndVolumes(api, p, o.progress);
  const recreated = new Set<string>();
  await inDependencyOrder(p, names, async (n) => {
    const svc = all[n]!;
    await waitForDependencies(api, p, n, svc, names, o);
    const want = replicas(svc, o.scale?.get(n));
    const hash = configHash(svc);
    const have = current.get(n) ?? [];
    const imageId = images.get(n)!;
    const eps = endpoints(p, n, svc, netNames);
    // Recreate when a dependency with `restart: true` was recreated (v2 restarts those).
    const depRecreated = Object.entries((svc.depends_on ?? {}) as Record<string, Obj>).some(
      ([d, cfg]) => recreated.has(d) && cfg.restart === true,
    );
    const tasks: Promise<void>[] = [];
    for (let i = 1; i <= want; i++) {
      const c = have.find((x) => x.Labels[LABEL.number] === String(i));
      const diverged = !c || c.Labels[LABEL.hash] !== hash || c.Labels[LABEL.image] !== imageId;
      const recreate = c && (o.recreate === 'force' || (o.recreate !== 'never' && diverged));
      tasks.push(
        (async () => {
          let id = c?.Id;
          const cname = containerName(p, n, svc, i);
          if (!c || recreate) {
            if (c) {
              // As v2: the old container steps aside under a temporary name until the new one exists.
              await api.stop(c.Id);
              await api.rename(c.Id, `${c.Id.slice(0, 12)}_${cname}`);
              o.progress(`Container ${cname}  Recreate`);
            } else o.progress(`Container ${cname}  Creating`);
            id = await api.create(
              cname,
              createBody({
                project: p,
                name: n,
                svc,
                number: i,
                imageId,
                networks: eps,
                serviceContainers: await namespaceContainers(api, p, svc),
              }),
            );
            for (const [net, ep] of eps.slice(1)) await api.connect(net, id, ep);
            await injectFiles(api, id, injected.get(n) ?? []);
            if (c) await api.remove(c.Id, { force: true });
            recreated.add(n);
            o.progress(`Container ${cname}  ${c ? 'Recreated' : 'Created'}`);
          } else if (depRecreated && c.State === 'running') {
            await api.restart(c.Id);
            o.progress(`Container ${cname}  Restarted`);
            return;
          }
          if (o.noStart) return;
          if (c && !recreate && c.State === 'running') {
            o.progress(`Container ${cname}  Running`);
            return;
          }
          o.progress(`Container ${cname}  Starting`);
          await api.start(id!);
          o.progress(`Container ${cname}  Started`);
        })(),
      );
    }
    // Scale down: the highest numbers go first.
    for (const c of have.filter((x) => Number(x.Labels[LABEL.number]) > want)) {
      tasks.push(
        (async () => {
          await api.stop(c.Id);
          await api.remove(c.Id, { force: true });
          o.progress(`Container ${nameOf(c)}  Removed`);
        })(),
      );
    }
    await Promise.all(tasks);
  });
}

/** The first container of each service this one joins by `service:X` (network_mode/pid/ipc). */
export async function namespaceContainers(
  api: ComposeApi,
  p: Project,
  svc: Service,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const dep of namespaceServices(svc)) {
    const cs = await api.containers(p.name, { oneoff: false, labels: [`${LABEL.service}=${dep}`] });
    cs.sort((a, b) => Number(a.Labels[LABEL.number]) - Number(b.Labels[LABEL.number]));
    if (cs[0]) out.set(dep, cs[0].Id);
  }
  return out;
}

/** depends_on conditions: started (nothing to wait for), healthy, completed_successfully. */
async function waitForDependencies(
  api: ComposeApi,
  p: Project,
  name: string,
  svc: Service,
  selected: readonly string[],
  o: UpOptions,
): Promise<void> {
  if (o.noStart) return;
  const deps = (svc.depends_on ?? {}) as Record<string, Obj>;
  await Promise.all(
    Object.entries(deps).map(async ([d, cfg]) => {
      const optional = cfg.required === false;
      if (!Object.hasOwn(services(p), d)) {
        // As v2: an optional dependency that is not defined (or whose profile is off) is skipped.
        if (optional)
          o.progress(`WARN optional dependency "${d}" of service "${name}" is not enabled: skipped`);
        return;
      }
      if (!selected.includes(d)) return;
      const cond = String(cfg.condition ?? 'service_started');
      if (cond === 'service_started') return;
      const cs = (await api.containers(p.name, { oneoff: false, labels: [`${LABEL.service}=${d}`] })).map(
        (c) => c.Id,
      );
      try {
        await Promise.all(
          cs.map((id) =>
            waitContainer(
              api,
              id,
              cond === 'service_healthy' ? 'healthy' : 'completed',
              `${name} depends on ${d}`,
              o.signal,
            ),
          ),
        );
      } catch (e) {
        // As v2: an optional dependency that is unhealthy or failed is a warning, not an error.
        if (!optional || o.signal?.aborted) throw e;
        o.progress(`WARN optional dependency "${d}" is not running or is unhealthy: ${(e as Error).message}`);
      }
    }),
  );
}

/** Polls a container until it is healthy (or has exited 0); fails naming the service when it cannot be. */
export async function waitContainer(
  api: ComposeApi,
  id: string,
  want: 'healthy' | 'completed' | 'running',
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    if (signal?.aborted) throw new ComposeError(`${what}: gave up waiting`);
    const c = await api.inspect(id);
    const name = c.Name.replace(/^\//, '');
    const s = c.State;
    if (want === 'completed') {
      if (!s.Running && s.Status === 'exited') {
        if (s.ExitCode === 0) return;
        throw new ComposeError(
          `service "${name}" didn't complete successfully: exit ${s.ExitCode} (${what})`,
        );
      }
    } else if (want === 'healthy') {
      if (!c.Config.Healthcheck?.Test?.length || c.Config.Healthcheck.Test[0] === 'NONE') {
        throw new ComposeError(
          `container ${name} has no healthcheck configured (${what}: add a healthcheck or use condition service_started)`,
        );
      }
      if (s.Health?.Status === 'healthy') return;
      if (s.Health?.Status === 'unhealthy')
        throw new ComposeError(`container ${name} is unhealthy (${what})`);
      if (!s.Running && s.Status === 'exited')
        throw new ComposeError(`container ${name} exited (${s.ExitCode}) (${what})`);
    } else if (s.Running) {
      if (!s.Health || s.Health.Status === 'healthy') return;
      if (s.Health.Status === 'unhealthy') throw new ComposeError(`container ${name} is unhealthy (${what})`);
    } else if (s.Status === 'exited') {
      throw new ComposeError(`container ${name} exited (${s.ExitCode}) (${what})`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Writes a service's `environment:`/`content:` secrets and configs into a created container,
 * before it starts (v2 copies a tar of them to `/`).
 */
export async function injectFiles(
  api: ComposeApi,
  id: string,
  files: readonly InjectedFile[],
): Promise<void> {
  if (files.length === 0) return;
  // The tar code is loaded only when a project has such files.
  const { tarOfFiles } = await import('../archive/index.ts');
  const tar = tarOfFiles(
    files.map((f) => ({
      name: f.target.replace(/^\/+/, ''),
      content: f.content,
      mode: f.mode,
      uid: f.uid,
      gid: f.gid,
    })),
  );
  await api.putArchive(
    id,
    '/',
    tar,
    files.some((f) => f.uid !== 0 || f.gid !== 0),
  );
}
