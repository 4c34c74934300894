// Which compressed blob in which repository holds each layer (by diff ID): learnt when layers
// are pulled or pushed, so a push can skip uploads (HEAD), mount blobs from another repository
// of the same registry, and reuse the same compressed digest. Docker keeps the same facts in
// its distribution metadata. One atomic JSON file; losing it only costs re-uploads.
import path from 'node:path';
import { atomicWriteJson, readJsonIfExists } from '../base/atomic.ts';
import type { Digest } from '../oci/digest.ts';
import { getOwn, setOwn } from '../base/own.ts';

export interface BlobSource {
  /** Digest of the compressed blob. */
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
  /** `registry/repository` it is known to be in. */
  readonly repository: string;
}

interface FileShape {
  byDiffId: Record<string, BlobSource[]>;
  /** Image ID → media type of the manifest it was pulled with (push keeps OCI images OCI). */
  manifestTypes?: Record<string, string>;
}

export class DistributionMetadata {
  readonly #file: string;
  #data: FileShape = { byDiffId: {} };
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string) {
    this.#file = file;
  }

  static async open(dir: string): Promise<DistributionMetadata> {
    const m = new DistributionMetadata(path.join(dir, 'distribution.json'));
    const data = (await readJsonIfExists(m.#file)) as FileShape | undefined;
    if (data?.byDiffId && typeof data.byDiffId === 'object') m.#data = data;
    return m;
  }

  sources(diffId: Digest): readonly BlobSource[] {
    return getOwn(this.#data.byDiffId, diffId) ?? [];
  }

  /** The manifest media type image `id` was pulled with, if it was pulled. */
  manifestType(id: Digest): string | undefined {
    return getOwn(this.#data.manifestTypes, id);
  }

  async setManifestType(id: Digest, mediaType: string): Promise<void> {
    this.#data.manifestTypes = { ...(this.#data.manifestTypes ?? {}), [id]: mediaType };
    await this.#save();
  }

  /** Records a blob for a layer (newest first; a few per layer are enough). */
  async add(diffId: Digest, src: BlobSource): Promise<void> {
    const list = (getOwn(this.#data.byDiffId, diffId) ?? []).filter(
      (s) => !(s.digest === src.digest && s.repository === src.repository),
    );
    setOwn(this.#data.byDiffId, diffId, [src, ...list].slice(0, 8));
    await this.#save();
  }

  async #save(): Promise<void> {
    const snapshot = JSON.parse(JSON.stringify(this.#data)) as FileShape;
    this.#writing = this.#writing.then(() => atomicWriteJson(this.#file, snapshot)).catch(() => {});
    await this.#writing;
  }
}
