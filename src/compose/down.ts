// `down`: stop and remove the project's containers (dependents first, independent ones in
// parallel), then its networks, and with -v its volumes, with --rmi its images. Without the
// compose files (`down -p NAME`) everything labelled with the project goes.
import { type ContainerSummary, type ComposeApi, LABEL } from './engine.ts';
import { imageName, services } from './create.ts';
import { inDependencyOrder } from './convergence.ts';
import type { Project } from './project.ts';

export interface DownOptions {
  readonly volumes?: boolean;
  readonly rmi?: 'local' | 'all';
  readonly removeOrphans?: boolean;
  readonly timeout?: number;
  readonly progress: (line: string) => void;
}

const nameOf = (c: ContainerSummary) => (c.Names[0] ?? '').replace(/^\//, '');

export async function down(
  api: ComposeApi,
  name: string,
  p: Project | undefined,
  o: DownOptions,
): Promise<void> {
  const all = await api.containers(name);
  const known = p ? services(p) : undefined;
  const byService = new Map<string, ContainerSummary[]>();
  const orphans: ContainerSummary[] = [];
  for (const c of all) {
    const s = c.Labels[LABEL.service] ?? '';
    if (known && !Object.hasOwn(known, s) && c.Labels[LABEL.oneoff] !== 'True') orphans.push(c);
    else byService.set(s, [...(byService.get(s) ?? []), c]);
  }
  const removeAll = async (cs: ContainerSummary[]) => {
    await Promise.all(
      cs.map(async (c) => {
        if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
          o.progress(`Container ${nameOf(c)}  Stopping`);
          await api.stop(c.Id, o.timeout);
          o.progress(`Container ${nameOf(c)}  Stopped`);
        }
        o.progress(`Container ${nameOf(c)}  Removing`);
        await api.remove(c.Id, { force: true, volumes: o.volumes === true });
        o.progress(`Container ${nameOf(c)}  Removed`);
      }),
    );
  };
  if (p) {
    const names = [...byService.keys()].filter((s) => Object.hasOwn(known!, s));
    await inDependencyOrder(p, names, (s) => removeAll(byService.get(s) ?? []), true);
    // One-off containers of services no longer in the model.
    await removeAll(
      [...byService.entries()].filter(([s]) => !Object.hasOwn(known!, s)).flatMap(([, cs]) => cs),
    );
  } else {
    await removeAll(all);
  }
  if (orphans.length && o.removeOrphans) await removeAll(orphans);
  else if (orphans.length) {
    o.progress(
      `WARN Found orphan containers (${orphans.map(nameOf).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
    );
  }

  for (const n of await api.networks(name)) {
    o.progress(`Network ${n.Name}  Removing`);
    await api.removeNetwork(n.Id);
    o.progress(`Network ${n.Name}  Removed`);
  }
  if (o.volumes) {
    for (const v of await api.volumes(name)) {
      await api.removeVolume(v.Name);
      o.progress(`Volume ${v.Name}  Removed`);
    }
  }
  if (o.rmi && p) {
    const imgs = new Set<string>();
    for (const [n, svc] of Object.entries(services(p))) {
      if (o.rmi === 'all' || typeof svc.image !== 'string') imgs.add(imageName(p, n, svc));
    }
    for (const ref of imgs) {
      await api.removeImage(ref);
      o.progress(`Image ${ref}  Removed`);
    }
  }
}
