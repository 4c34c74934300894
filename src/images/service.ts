import type { Log } from '../base/log.ts';
// The image service: image records, names and the content behind them. No HTTP, no Docker
// JSON: the API edge maps these views to Docker's shapes.
import type { ContentStore } from '../content/index.ts';
import { NotFoundError } from '../errdefs/index.ts';
import type { ImageMetadataStore, ImageRecord } from '../metadata/index.ts';
import { chainIds, type Digest, digestHex, isDigest } from '../oci/digest.ts';
import type { ImageConfig } from '../oci/image.ts';
import { familiarString, formatReference, parseReference, withDefaultTag } from '../oci/reference.ts';
import type { LayerSnapshots } from '../snapshots/index.ts';
import { RwLock } from '../base/rwlock.ts';
import { collectGarbage, type GcResult } from './gc.ts';

export interface ImageServiceDeps {
  readonly content: ContentStore;
  readonly layers: LayerSnapshots;
  readonly meta: ImageMetadataStore;
  readonly log: Log;
}

/** Everything a caller needs to describe one image. */
export interface ImageView {
  readonly id: Digest;
  readonly record: ImageRecord;
  readonly config: ImageConfig;
  /** Familiar `name:tag` strings, sorted. */
  readonly repoTags: string[];
  /** Familiar `name@sha256:...` strings, sorted. */
  readonly repoDigests: string[];
  /** Bytes of all layers. */
  readonly size: number;
  /** Chain IDs of the layers, bottom first. */
  readonly chain: Digest[];
}

export class ImageService {
  readonly deps: ImageServiceDeps;
  /** Ingests take it shared, garbage collection exclusively. */
  readonly gcLock = new RwLock();
  readonly #configs = new Map<Digest, ImageConfig>();
  readonly #layerSizes = new Map<Digest, number>();

  constructor(deps: ImageServiceDeps) {
    this.deps = deps;
  }

  /** Start-up: verify every record against the store, drop partial images, collect garbage. */
  async recover(): Promise<void> {
    const { meta, layers, content, log } = this.deps;
    for (const rec of meta.all()) {
      const cfg = await this.#loadConfig(rec.id).catch(() => undefined);
      const chain = cfg ? chainIds(cfg.rootfs.diff_ids) : [];
      const missing =
        cfg === undefined || (await Promise.all(chain.map((c) => layers.get(digestHex(c))))).some((m) => !m);
      if (missing) {
        log('warn', 'dropping incomplete image record', { id: rec.id });
        await meta.delete(rec.id);
      }
    }
    const dangling = meta.refs().filter(([, id]) => !meta.get(id));
    if (dangling.length > 0) await meta.removeRefs(dangling.map(([n]) => n));
    const removedIngests = await content.recover();
    const removedLayers = await layers.recover();
    const gc = await this.gc();
    if (removedIngests + removedLayers + gc.layers + gc.blobs > 0) {
      log('info', 'store recovery', {
        removedIngests,
        removedLayers,
        gcLayers: gc.layers,
        gcBlobs: gc.blobs,
      });
    }
  }

  gc(): Promise<GcResult> {
    return this.gcLock.exclusive(() => collectGarbage(this));
  }

  async #loadConfig(id: Digest): Promise<ImageConfig> {
    const cached = this.#configs.get(id);
    if (cached) return cached;
    const cfg = JSON.parse((await this.deps.content.readBytes(id)).toString('utf8')) as ImageConfig;
    this.#configs.set(id, cfg);
    return cfg;
  }

  async config(id: Digest): Promise<ImageConfig> {
    return this.#loadConfig(id);
  }

  async #layerSize(chainId: Digest): Promise<number> {
    const cached = this.#layerSizes.get(chainId);
    if (cached !== undefined) return cached;
    const m = await this.deps.layers.get(digestHex(chainId));
    const size = m?.size ?? 0;
    this.#layerSizes.set(chainId, size);
    return size;
  }

  async view(id: Digest): Promise<ImageView> {
    const record = this.deps.meta.get(id);
    if (!record) throw new NotFoundError('IMAGE_NOT_FOUND', `No such image: ${id}`);
    const config = await this.#loadConfig(id);
    const chain = chainIds(config.rootfs.diff_ids ?? []);
    let size = 0;
    for (const c of chain) size += await this.#layerSize(c);
    const repoTags: string[] = [];
    const repoDigests: string[] = [];
    for (const name of this.deps.meta.namesOf(id)) {
      const ref = parseReference(name);
      (ref.digest ? repoDigests : repoTags).push(familiarString(ref));
    }
    return { id, record, config, repoTags: repoTags.sort(), repoDigests: repoDigests.sort(), size, chain };
  }

  async list(): Promise<ImageView[]> {
    return Promise.all(this.deps.meta.all().map((r) => this.view(r.id)));
  }

  /**
   * Finds an image as Docker does: full ID, then a name (default tag `latest`), then a
   * unique ID prefix. Throws NotFound with Docker's "No such image" message.
   */
  resolve(refOrId: string): Digest {
    const found = this.tryResolve(refOrId);
    if (!found) throw noSuchImage(refOrId);
    return found.id;
  }

  /** Like resolve; also says which stored name matched (undefined when matched by ID). */
  tryResolve(refOrId: string): { id: Digest; matchedName?: string } | undefined {
    const { meta } = this.deps;
    const asId = refOrId.startsWith('sha256:') ? refOrId : `sha256:${refOrId}`;
    if (isDigest(asId) && meta.get(asId)) return { id: asId };
    let name: string | undefined;
    try {
      name = formatReference(withDefaultTag(parseReference(refOrId)));
    } catch {
      name = undefined;
    }
    if (name !== undefined) {
      const id = meta.resolveRef(name);
      if (id) return { id, matchedName: name };
    }
    const prefix = refOrId.startsWith('sha256:') ? refOrId.slice(7) : refOrId;
    if (/^[a-f0-9]{1,64}$/.test(prefix)) {
      const matches = meta.all().filter((r) => r.id.slice(7).startsWith(prefix));
      if (matches.length === 1) return { id: matches[0]!.id };
    }
    return undefined;
  }

  /** `docker tag SOURCE TARGET` */
  async tag(source: string, target: string): Promise<void> {
    const id = this.resolve(source);
    const ref = withDefaultTag(parseReference(target));
    if (ref.digest) {
      throw new NotFoundError('INVALID_TAG', `refusing to create a tag with a digest reference: ${target}`);
    }
    await this.deps.meta.setRefs({ [formatReference(ref)]: id });
    const rec = this.deps.meta.get(id);
    if (rec) await this.deps.meta.put({ ...rec, lastTagTime: new Date().toISOString() });
  }

  /** Adds an image record (content already stored) and names it. */
  async register(
    id: Digest,
    opts: { names?: readonly string[]; parent?: Digest; intermediate?: boolean } = {},
  ): Promise<void> {
    const now = new Date().toISOString();
    const existing = this.deps.meta.get(id);
    const names = opts.names ?? [];
    await this.deps.meta.put({
      id,
      added: existing?.added ?? now,
      ...(names.length > 0
        ? { lastTagTime: now }
        : existing?.lastTagTime
          ? { lastTagTime: existing.lastTagTime }
          : {}),
      ...(opts.parent ? { parent: opts.parent } : existing?.parent ? { parent: existing.parent } : {}),
      // Once an image is a build result or was stored otherwise, it stays visible.
      ...(opts.intermediate && (existing === undefined || existing.intermediate)
        ? { intermediate: true }
        : {}),
    });
    if (names.length > 0) await this.deps.meta.setRefs(Object.fromEntries(names.map((n) => [n, id])));
  }
}

/**
 * Docker's "No such image" error: a name is shown as its familiar form with the default tag
 * (`nope` → `nope:latest`, as Docker's daemon words it); an ID or digest as given.
 */
export function noSuchImage(refOrId: string): NotFoundError {
  let shown = refOrId;
  if (!refOrId.startsWith('sha256:') && !/^[a-f0-9]{64}$/.test(refOrId)) {
    try {
      shown = familiarString(withDefaultTag(parseReference(refOrId)));
    } catch {
      shown = refOrId;
    }
  }
  return new NotFoundError('IMAGE_NOT_FOUND', `No such image: ${shown}`);
}
