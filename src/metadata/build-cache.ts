// Durable build cache records: the cache key of one Dockerfile step (its parent image, the
// instruction after expansion, the build args it used, the checksums of the files it copied)
// → the image that step produced. One file per record (`build-cache/<key-hex>.json`), written
// atomically, all read into memory at start so lookups never touch the disk.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteJson, readJsonIfExists, removeTempFiles } from '../base/atomic.ts';
import type { Digest } from '../oci/digest.ts';

export interface BuildCacheRecord {
  /** sha256 hex of the step's cache key. */
  readonly key: string;
  /** The image the step produced. */
  readonly image: Digest;
  /** The instruction, for `system df -v` and debugging. */
  readonly description: string;
  readonly created: string;
  readonly lastUsed: string;
  readonly usageCount: number;
}

export class BuildCacheStore {
  readonly #dir: string;
  readonly #records = new Map<string, BuildCacheRecord>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async open(dir: string): Promise<BuildCacheStore> {
    const s = new BuildCacheStore(dir);
    await fsp.mkdir(dir, { recursive: true });
    await removeTempFiles(dir);
    for (const name of await fsp.readdir(dir)) {
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      const rec = (await readJsonIfExists(path.join(dir, name)).catch(() => undefined)) as
        | BuildCacheRecord
        | undefined;
      if (rec?.key && rec.image) s.#records.set(rec.key, rec);
    }
    return s;
  }

  get(key: string): BuildCacheRecord | undefined {
    return this.#records.get(key);
  }

  all(): BuildCacheRecord[] {
    return [...this.#records.values()];
  }

  async put(rec: BuildCacheRecord): Promise<void> {
    await atomicWriteJson(path.join(this.#dir, `${rec.key}.json`), rec);
    this.#records.set(rec.key, rec);
  }

  /**
   * Records a hit in memory at once and on disk in the background: a lost `lastUsed` only
   * changes prune order, and an fsync per cached step would dominate a fully cached build.
   */
  touch(key: string): void {
    const rec = this.#records.get(key);
    if (!rec) return;
    const next = { ...rec, lastUsed: new Date().toISOString(), usageCount: rec.usageCount + 1 };
    this.#records.set(key, next);
    atomicWriteJson(path.join(this.#dir, `${key}.json`), next).catch(() => {});
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(path.join(this.#dir, `${key}.json`), { force: true });
    this.#records.delete(key);
  }
}
