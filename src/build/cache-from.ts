// `cachefrom` (docker build --cache-from): with sources named, Docker's legacy builder trusts
// only images those sources stand on. A recorded cache hit counts when its image is one of the
// sources or in their parent chains; without a record (pruned, or built elsewhere with the same
// chain kept) a step matches the source-chain image whose parent is the step's parent and whose
// last history entry is the step's. Sources that do not exist are skipped, as Docker does.
import type { ImageService } from '../images/index.ts';
import type { Digest } from '../oci/digest.ts';

/** Bound on a parent chain walk: a cycle in stored metadata must not hang a build. */
const MAX_CHAIN = 10_000;

export class CacheSources {
  readonly #images: ImageService;
  readonly #chain = new Set<Digest>();

  private constructor(images: ImageService) {
    this.#images = images;
  }

  /** The sources' images and their ancestors; unknown references are left out. */
  static resolve(images: ImageService, refs: readonly string[]): CacheSources {
    const s = new CacheSources(images);
    for (const ref of refs) {
      let id: Digest | undefined = images.tryResolve(ref)?.id;
      for (let i = 0; id && i < MAX_CHAIN && !s.#chain.has(id); i++) {
        s.#chain.add(id);
        id = images.deps.meta.get(id)?.parent;
      }
    }
    return s;
  }

  /** A recorded hit is usable only when a source stands on it. */
  allows(id: Digest): boolean {
    return this.#chain.has(id);
  }

  /** The chain image a step on `parent` writing history `createdBy` produced, if any. */
  async find(parent: Digest | undefined, createdBy: string): Promise<Digest | undefined> {
    if (!parent) return undefined;
    for (const id of this.#chain) {
      if (this.#images.deps.meta.get(id)?.parent !== parent) continue;
      const history = (await this.#images.config(id)).history ?? [];
      if (history.at(-1)?.created_by === createdBy) return id;
    }
    return undefined;
  }
}
