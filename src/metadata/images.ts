// Durable image records and the tag/digest references that point at them. Everything is kept
// in memory (listing never touches the disk) and every change is written atomically:
// `images/<id-hex>.json` per image and `images/references.json` for all names.
import { promises as fsp } from 'node:fs';
import { crashPoint } from '../base/crashpoint.ts';
import path from 'node:path';
import { atomicWriteJson, readJsonIfExists, removeTempFiles } from '../base/atomic.ts';
import { KeyedMutex } from '../base/lock.ts';
import { type Digest, digestHex, isDigest } from '../oci/digest.ts';

export interface ImageRecord {
  /** Image ID: the digest of its config blob. */
  readonly id: Digest;
  /** When the image arrived in this store (RFC 3339). */
  readonly added: string;
  /** Last time a tag was set (RFC 3339), as Docker's `Metadata.LastTagTime`. */
  readonly lastTagTime?: string;
  /** Parent image ID (builds), as Docker's `Parent`. */
  readonly parent?: Digest;
  /**
   * A build step's image kept as build cache: hidden from image lists (unless all=1) and
   * removed by `builder prune` when nothing else uses it.
   */
  readonly intermediate?: boolean;
}

interface ReferencesFile {
  /** normalised `name:tag` or `name@digest` → image ID */
  refs: Record<string, Digest>;
}

export class ImageMetadataStore {
  readonly #dir: string;
  readonly #images = new Map<Digest, ImageRecord>();
  readonly #refs = new Map<string, Digest>();
  /**
   * Serialises reference updates: each builds the next map from the current one and writes it,
   * so two concurrent tags (parallel builds of a compose project) must not both start from the
   * same old map, or the second write drops the first tag.
   */
  readonly #refsLock = new KeyedMutex();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** `dir` is `<data-root>/images`. Loads everything into memory. */
  static async open(dir: string): Promise<ImageMetadataStore> {
    const s = new ImageMetadataStore(dir);
    await fsp.mkdir(dir, { recursive: true });
    await removeTempFiles(dir);
    for (const name of await fsp.readdir(dir)) {
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      const rec = (await readJsonIfExists(path.join(dir, name))) as ImageRecord | undefined;
      if (rec && isDigest(rec.id)) s.#images.set(rec.id, rec);
    }
    const refs = (await readJsonIfExists(path.join(dir, 'references.json'))) as ReferencesFile | undefined;
    for (const [k, v] of Object.entries(refs?.refs ?? {})) s.#refs.set(k, v);
    return s;
  }

  get(id: Digest): ImageRecord | undefined {
    return this.#images.get(id);
  }

  all(): ImageRecord[] {
    return [...this.#images.values()];
  }

  async put(rec: ImageRecord): Promise<void> {
    await atomicWriteJson(path.join(this.#dir, `${digestHex(rec.id)}.json`), rec);
    this.#images.set(rec.id, rec);
  }

  async delete(id: Digest): Promise<void> {
    // The record file goes first: a crash after it leaves names of a missing image, which
    // start-up drops (ImageService.recover), so the delete finishes. Names first left an
    // untagged image nobody asked to keep. The in-memory view changes last, all at once.
    await fsp.rm(path.join(this.#dir, `${digestHex(id)}.json`), { force: true });
    crashPoint('rmi:between-record-and-names');
    const names = this.namesOf(id);
    if (names.length > 0) await this.removeRefs(names);
    this.#images.delete(id);
  }

  /** Every reference (sorted), with the image each points at. */
  refs(): [string, Digest][] {
    return [...this.#refs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  resolveRef(name: string): Digest | undefined {
    return this.#refs.get(name);
  }

  namesOf(id: Digest): string[] {
    return this.refs()
      .filter(([, v]) => v === id)
      .map(([k]) => k);
  }

  async setRefs(entries: Record<string, Digest>): Promise<void> {
    await this.#refsLock.run('refs', async () => {
      const next = new Map(this.#refs);
      for (const [k, v] of Object.entries(entries)) next.set(k, v);
      await this.#saveRefs(next);
    });
  }

  async removeRefs(names: readonly string[]): Promise<void> {
    await this.#refsLock.run('refs', async () => {
      const next = new Map(this.#refs);
      for (const n of names) next.delete(n);
      await this.#saveRefs(next);
    });
  }

  async #saveRefs(next: Map<string, Digest>): Promise<void> {
    const file: ReferencesFile = { refs: Object.fromEntries([...next.entries()].sort()) };
    await atomicWriteJson(path.join(this.#dir, 'references.json'), file);
    this.#refs.clear();
    for (const [k, v] of next) this.#refs.set(k, v);
  }
}
