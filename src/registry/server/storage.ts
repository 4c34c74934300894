// Filesystem storage for Berth's registry server.
//
//   <root>/blobs/sha256/<hex>                       blob content, verified before it appears
//   <root>/uploads/<uuid>                           an upload in progress (appended to)
//   <root>/repositories/<name>/blobs/<hex>          empty marker: the blob belongs to the repo
//   <root>/repositories/<name>/manifests/<hex>      empty marker: the manifest is in the repo
//   <root>/repositories/<name>/tags/<tag>           the tag's manifest digest
//
// Every visible file appears by rename (temp + fsync + rename), so concurrent pushes of the same
// blob race harmlessly: both verified the same bytes, the last rename wins.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { atomicWriteFile } from '../../base/atomic.ts';

export type Digest = `sha256:${string}`;

/** Repository names as the distribution spec allows them (no `..`, no leading `/`). */
export const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
/** One file or folder name below a repository: tags, hex digests, fixed folder names. */
const COMPONENT_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export class RegistryStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  async init(): Promise<void> {
    await Promise.all(
      ['blobs/sha256', 'uploads', 'repositories'].map((d) =>
        fsp.mkdir(path.join(this.root, d), { recursive: true }),
      ),
    );
  }

  blobPath(d: Digest): string {
    // The request handlers check digests first; checking again here keeps every path this
    // store makes inside it even if a caller forgets (a `..` or `/` can never reach a join).
    if (!DIGEST_RE.test(d))
      throw Object.assign(new Error(`invalid digest ${JSON.stringify(d)}`), { code: 'DIGEST_INVALID' });
    return path.join(this.root, 'blobs/sha256', d.slice(7));
  }

  #repo(name: string, ...rest: string[]): string {
    if (!NAME_RE.test(name) || name.length > 255)
      throw Object.assign(new Error(`invalid repository name ${JSON.stringify(name)}`), {
        code: 'NAME_INVALID',
      });
    for (const c of rest) {
      if (!COMPONENT_RE.test(c))
        throw Object.assign(new Error(`invalid path component ${JSON.stringify(c)}`), {
          code: 'NAME_INVALID',
        });
    }
    return path.join(this.root, 'repositories', name, ...rest);
  }

  async blobSize(d: Digest): Promise<number | undefined> {
    return fsp.stat(this.blobPath(d)).then(
      (s) => s.size,
      () => undefined,
    );
  }

  async repoHasBlob(name: string, d: Digest): Promise<boolean> {
    return fsp.access(this.#repo(name, 'blobs', d.slice(7))).then(
      () => true,
      () => false,
    );
  }

  async linkBlob(name: string, d: Digest): Promise<void> {
    await fsp.mkdir(this.#repo(name, 'blobs'), { recursive: true });
    await fsp.writeFile(this.#repo(name, 'blobs', d.slice(7)), '');
  }

  readBlob(d: Digest, range?: { start: number; end: number }): Readable {
    return createReadStream(this.blobPath(d), range ? { start: range.start, end: range.end } : {});
  }

  // Uploads ---------------------------------------------------------------------------------

  async startUpload(): Promise<string> {
    const id = randomUUID();
    await fsp.writeFile(path.join(this.root, 'uploads', id), '');
    return id;
  }

  #upload(id: string): string {
    if (!/^[0-9a-f-]{36}$/.test(id))
      throw Object.assign(new Error('bad upload id'), { code: 'BLOB_UPLOAD_UNKNOWN' });
    return path.join(this.root, 'uploads', id);
  }

  async uploadSize(id: string): Promise<number | undefined> {
    return fsp.stat(this.#upload(id)).then(
      (s) => s.size,
      () => undefined,
    );
  }

  /** Appends a body to an upload; returns the new size. */
  async appendUpload(id: string, body: Readable, limit: number): Promise<number> {
    const fh = await fsp.open(this.#upload(id), 'a');
    try {
      let size = (await fh.stat()).size;
      for await (const c of body) {
        size += (c as Buffer).length;
        if (size > limit)
          throw Object.assign(new Error(`blob larger than ${limit} bytes`), { code: 'SIZE_INVALID' });
        await fh.write(c as Buffer);
      }
      return size;
    } finally {
      await fh.close();
    }
  }

  /** Verifies the upload against `digest` and makes it a blob; the upload is gone either way. */
  async commitUpload(id: string, digest: Digest): Promise<number> {
    const file = this.#upload(id);
    const hash = createHash('sha256');
    for await (const c of createReadStream(file)) hash.update(c as Buffer);
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== digest) {
      await fsp.rm(file, { force: true });
      throw Object.assign(new Error(`content digest ${got} does not match ${digest}`), {
        code: 'DIGEST_INVALID',
      });
    }
    const fh = await fsp.open(file, 'r+');
    await fh.sync();
    await fh.close();
    await fsp.rename(file, this.blobPath(digest));
    return (await fsp.stat(this.blobPath(digest))).size;
  }

  async cancelUpload(id: string): Promise<boolean> {
    const file = this.#upload(id);
    const existed = await fsp.access(file).then(
      () => true,
      () => false,
    );
    await fsp.rm(file, { force: true });
    return existed;
  }

  // Manifests and tags ----------------------------------------------------------------------

  async unlinkBlob(name: string, d: Digest): Promise<void> {
    await fsp.rm(this.#repo(name, 'blobs', d.slice(7)), { force: true });
  }

  async readManifest(d: Digest): Promise<Buffer> {
    return fsp.readFile(this.blobPath(d));
  }

  async putManifest(
    name: string,
    digest: Digest,
    bytes: Buffer,
    tag?: string,
    mediaType?: string,
    subject?: string,
  ): Promise<void> {
    // The manifest is a blob too (so GET by digest and GC treat it alike).
    if ((await this.blobSize(digest)) === undefined) await atomicWriteFile(this.blobPath(digest), bytes);
    await fsp.mkdir(this.#repo(name, 'manifests'), { recursive: true });
    await fsp.writeFile(this.#repo(name, 'manifests', digest.slice(7)), '');
    if (subject && DIGEST_RE.test(subject)) {
      // The referrers API lists manifests by their subject: keep the descriptor beside it.
      const parsed = JSON.parse(bytes.toString('utf8')) as {
        artifactType?: string;
        config?: { mediaType?: string };
        annotations?: Record<string, string>;
      };
      const desc = {
        mediaType,
        digest,
        size: bytes.length,
        artifactType: parsed.artifactType ?? parsed.config?.mediaType,
        ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
      };
      await fsp.mkdir(this.#repo(name, 'referrers', subject.slice(7)), { recursive: true });
      await atomicWriteFile(
        this.#repo(name, 'referrers', subject.slice(7), digest.slice(7)),
        JSON.stringify(desc),
      );
    }
    if (tag) {
      await fsp.mkdir(this.#repo(name, 'tags'), { recursive: true });
      await atomicWriteFile(this.#repo(name, 'tags', tag), digest);
    }
  }

  async resolveManifest(name: string, ref: string): Promise<Digest | undefined> {
    if (DIGEST_RE.test(ref)) {
      const inRepo = await fsp.access(this.#repo(name, 'manifests', ref.slice(7))).then(
        () => true,
        () => false,
      );
      return inRepo ? (ref as Digest) : undefined;
    }
    const text = await fsp.readFile(this.#repo(name, 'tags', ref), 'utf8').catch(() => undefined);
    return text && DIGEST_RE.test(text.trim()) ? (text.trim() as Digest) : undefined;
  }

  async deleteManifest(name: string, digest: Digest): Promise<boolean> {
    const marker = this.#repo(name, 'manifests', digest.slice(7));
    const existed = await fsp.access(marker).then(
      () => true,
      () => false,
    );
    if (!existed) return false;
    await fsp.rm(marker, { force: true });
    for (const t of await this.tags(name)) {
      if ((await this.resolveManifest(name, t)) === digest)
        await fsp.rm(this.#repo(name, 'tags', t), { force: true });
    }
    return true;
  }

  async referrers(
    name: string,
    subject: Digest,
  ): Promise<{ mediaType?: string; digest: string; size: number; artifactType?: string }[]> {
    const dir = this.#repo(name, 'referrers', subject.slice(7));
    const out = [];
    for (const f of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (!/^[a-f0-9]{64}$/.test(f)) continue;
      // A deleted manifest no longer refers.
      if (!(await this.resolveManifest(name, `sha256:${f}`))) continue;
      out.push(JSON.parse(await fsp.readFile(path.join(dir, f), 'utf8')) as { digest: string; size: number });
    }
    return out;
  }

  async tags(name: string): Promise<string[]> {
    return (await fsp.readdir(this.#repo(name, 'tags')).catch(() => [] as string[]))
      .filter((t) => TAG_RE.test(t))
      .sort();
  }

  async manifestDigests(name: string): Promise<Digest[]> {
    return (await fsp.readdir(this.#repo(name, 'manifests')).catch(() => [] as string[]))
      .filter((h) => /^[a-f0-9]{64}$/.test(h))
      .map((h) => `sha256:${h}` as Digest);
  }

  async repositoryExists(name: string): Promise<boolean> {
    return fsp.access(this.#repo(name)).then(
      () => true,
      () => false,
    );
  }

  /** Every repository name (folders holding manifests or blobs), sorted. */
  async catalog(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string) => {
      const entries = await fsp
        .readdir(path.join(this.root, 'repositories', rel), { withFileTypes: true })
        .catch(() => []);
      const names = entries.map((e) => e.name);
      if (names.includes('manifests') || names.includes('blobs')) out.push(rel);
      for (const e of entries) {
        if (e.isDirectory() && !['manifests', 'blobs', 'tags', 'referrers'].includes(e.name))
          await walk(rel ? `${rel}/${e.name}` : e.name);
      }
    };
    await walk('');
    return out.sort();
  }
}
