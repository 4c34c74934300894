// The build service: parses the Dockerfile, runs a BuildExecution in a private temp dir, names
// the result, and owns the build cache's lifecycle (recovery at start, prune, usage).
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Log } from '../base/log.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';
import { chainIds, type Digest, digestHex } from '../oci/digest.ts';
import { formatReference, parseReference, withDefaultTag } from '../oci/reference.ts';
import { unmount } from '../snapshots/index.ts';
import { parseDockerfile } from './dockerfile/parser.ts';
import { BuildExecution, type ExecutorDeps } from './executor.ts';
import { nopText } from './history-text.ts';
import { commitStep } from './image-step.ts';
import { BUILD_STEP_LABEL } from './steps/run.ts';
import type { BuildEvent, BuildRequest, BuildResult } from './types.ts';

export interface BuildServiceDeps extends ExecutorDeps {
  /** `<data-root>/build`: temp dirs of running builds live below it. */
  readonly root: string;
  readonly log: Log;
  /** Containers using an image (an image in use is not pruned). */
  readonly imageUsers: (id: Digest) => unknown[];
}

export interface CacheUsage {
  readonly id: string;
  readonly description: string;
  readonly image: Digest;
  readonly size: number;
  readonly created: string;
  readonly lastUsed: string;
  readonly usageCount: number;
  readonly inUse: boolean;
  /** The step's image is also a named (non-intermediate) image. */
  readonly shared: boolean;
}

export class BuildService {
  readonly deps: BuildServiceDeps;

  constructor(deps: BuildServiceDeps) {
    this.deps = { imageSourceSums: new Map(), ...deps };
  }

  get tmpRoot(): string {
    return path.join(this.deps.root, 'tmp');
  }

  /**
   * Start-up: remove RUN containers, unmount and remove temp dirs that builds killed mid-way
   * left, drop cache records of lost images.
   */
  async recover(): Promise<void> {
    for (const c of this.deps.containers.list()) {
      if (c.config.Labels?.[BUILD_STEP_LABEL] !== 'true') continue;
      await this.deps.containers
        .remove(c.id, { force: true, volumes: true })
        .catch((err) =>
          this.deps.log('warn', 'could not remove a build step container', { id: c.id, err: String(err) }),
        );
    }
    await fsp.mkdir(this.tmpRoot, { recursive: true });
    await fsp.mkdir(this.deps.cacheMountsRoot, { recursive: true });
    for (const name of await fsp.readdir(this.tmpRoot)) {
      const dir = path.join(this.tmpRoot, name);
      for (const sub of await fsp.readdir(dir).catch(() => [] as string[])) {
        await unmount(path.join(dir, sub, 'merged')).catch(() => {});
      }
      await fsp
        .rm(dir, { recursive: true, force: true })
        .catch((err) =>
          this.deps.log('warn', 'could not remove a build temp dir', { dir, err: String(err) }),
        );
    }
    for (const rec of this.deps.cache.all()) {
      if (!this.deps.images.deps.meta.get(rec.image)) await this.deps.cache.delete(rec.key);
    }
  }

  async build(req: BuildRequest, emit: (e: BuildEvent) => void): Promise<BuildResult> {
    const df = parseDockerfile(req.dockerfile);
    for (const w of df.warnings)
      emit({ type: 'warning', message: `[Warning] ${w.message} (line ${w.range.start.line})` });
    const names = req.tags.map((t) => {
      const ref = withDefaultTag(parseReference(t));
      if (ref.digest) {
        throw new InvalidArgumentError(
          'INVALID_TAG',
          `invalid tag "${t}": a build cannot be tagged with a digest`,
        );
      }
      return formatReference(ref);
    });
    const tmp = path.join(this.tmpRoot, `b-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(tmp, { recursive: true });
    try {
      const exec = new BuildExecution(this.deps, req, df, tmp, emit);
      let state = await exec.run();
      // `--label`s become one LABEL step each, sorted by key, as Docker's builder adds them.
      const labels = Object.entries(req.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [k, v] of labels) {
        const cfg = state.config.config ?? {};
        state = await commitStep(this.deps.images, state, {
          config: { ...cfg, Labels: { ...(cfg.Labels ?? {}), [k]: v } },
          createdBy: nopText(cfg.Shell, `LABEL ${k}=${v}`),
        });
      }
      const id = state.id!;
      await this.deps.images.register(id, { names });
      this.deps.log('info', 'image built', { id, tags: names });
      return { id, tags: names };
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
    }
  }

  /** Bytes of the layers an image adds over its parent (what its cache entry holds). */
  async #ownSize(id: Digest): Promise<number> {
    const { images } = this.deps;
    const cfg = await images.config(id).catch(() => undefined);
    if (!cfg) return 0;
    const rec = images.deps.meta.get(id);
    const parentCfg = rec?.parent ? await images.config(rec.parent).catch(() => undefined) : undefined;
    const own = chainIds(cfg.rootfs.diff_ids).slice(parentCfg?.rootfs.diff_ids.length ?? 0);
    let size = 0;
    for (const c of own) size += (await images.deps.layers.get(digestHex(c)))?.size ?? 0;
    return size;
  }

  async usage(): Promise<CacheUsage[]> {
    const out: CacheUsage[] = [];
    for (const r of this.deps.cache.all()) {
      const rec = this.deps.images.deps.meta.get(r.image);
      out.push({
        id: r.key.slice(0, 25),
        description: r.description,
        image: r.image,
        size: rec ? await this.#ownSize(r.image) : 0,
        created: r.created,
        lastUsed: r.lastUsed,
        usageCount: r.usageCount,
        inUse: this.deps.imageUsers(r.image).length > 0,
        shared: rec !== undefined && !rec.intermediate,
      });
    }
    return out;
  }

  /**
   * `builder prune`: drops cache records (all, or those last used before `until`) and the
   * intermediate images only they kept, then collects the layers nothing references.
   */
  async prune(
    opts: { until?: number; all?: boolean } = {},
  ): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    const { cache, images } = this.deps;
    const deleted: string[] = [];
    for (const r of cache.all()) {
      if (opts.until !== undefined && Date.parse(r.lastUsed) >= opts.until) continue;
      await cache.delete(r.key);
      deleted.push(r.key.slice(0, 25));
    }
    const kept = new Set(cache.all().map((r) => r.image));
    const meta = images.deps.meta;
    // Children first, so a parent is never left pointing-at by a removed child.
    let changed = true;
    while (changed) {
      changed = false;
      const parents = new Set(
        meta
          .all()
          .map((r) => r.parent)
          .filter(Boolean),
      );
      for (const rec of meta.all()) {
        if (!rec.intermediate || kept.has(rec.id) || parents.has(rec.id)) continue;
        if (meta.namesOf(rec.id).length > 0 || this.deps.imageUsers(rec.id).length > 0) continue;
        await meta.delete(rec.id);
        changed = true;
      }
    }
    const gc = await images.gc();
    return { deleted, spaceReclaimed: gc.bytes };
  }
}
