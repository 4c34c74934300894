// `docker save`: one tar holding an OCI image layout (oci-layout, index.json, blobs/sha256/*)
// plus Docker's manifest.json and repositories, the way Docker 25+ writes it, so both
// `docker load` and OCI tools read it. Layers are the stored uncompressed tars, so each layer
// blob's digest is its diff ID.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { type Digest, digestHex, sha256Digest } from '../oci/digest.ts';
import type { ImageManifest, ImageIndex, Descriptor } from '../oci/image.ts';
import { MediaType } from '../oci/media-types.ts';
import {
  familiarName,
  familiarString,
  formatReference,
  parseReference,
  withDefaultTag,
} from '../oci/reference.ts';
import type { ImageService } from './service.ts';

interface SaveItem {
  readonly id: Digest;
  /** Normalised names to record (empty when saved by ID). */
  readonly names: string[];
}

/** Resolves what `docker save a b:c <id>` means: names given keep only that tag; a bare repo takes all its tags. */
export function planSave(svc: ImageService, refs: readonly string[]): SaveItem[] {
  const byId = new Map<Digest, Set<string>>();
  for (const input of refs) {
    const found = svc.tryResolve(input);
    let id: Digest;
    const names: string[] = [];
    if (found?.matchedName !== undefined) {
      id = found.id;
      const ref = parseReference(input);
      if (ref.tag === undefined && ref.digest === undefined) {
        // `docker save busybox` saves every tag of the repository.
        const repo = formatReference({ domain: ref.domain, path: ref.path });
        for (const [name, target] of svc.deps.meta.refs()) {
          if (name.startsWith(`${repo}:`)) {
            names.push(name);
            if (!byId.has(target)) byId.set(target, new Set());
            byId.get(target)!.add(name);
          }
        }
        continue;
      }
      names.push(formatReference(withDefaultTag(ref)));
    } else {
      id = svc.resolve(input);
    }
    if (!byId.has(id)) byId.set(id, new Set());
    for (const n of names) byId.get(id)!.add(n);
  }
  return [...byId.entries()].map(([id, names]) => ({
    id,
    names: [...names].filter((n) => !n.includes('@')),
  }));
}

export function saveImages(svc: ImageService, items: readonly SaveItem[]): Readable {
  const pack = tar.pack();
  const write = async () => {
    const written = new Set<string>();
    const entry = (name: string, body: Buffer) =>
      new Promise<void>((res, rej) =>
        pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body, (e) => (e ? rej(e) : res())),
      );
    const dir = (name: string) =>
      new Promise<void>((res, rej) =>
        pack.entry({ name, type: 'directory', mode: 0o755, mtime: new Date(0) }, (e) => (e ? rej(e) : res())),
      );
    const blobFile = async (digest: Digest, size: number) => {
      const name = `blobs/sha256/${digestHex(digest)}`;
      if (written.has(name)) return;
      written.add(name);
      const sink = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) });
      await pipeline(createReadStream(svc.deps.content.blobPath(digest)), sink);
    };
    const blobBytes = async (body: Buffer): Promise<Descriptor> => {
      const digest = sha256Digest(body);
      const name = `blobs/sha256/${digestHex(digest)}`;
      if (!written.has(name)) {
        written.add(name);
        await entry(name, body);
      }
      return { mediaType: '', digest, size: body.length };
    };

    await dir('blobs/');
    await dir('blobs/sha256/');
    const index: { manifests: Descriptor[] } = { manifests: [] };
    const dockerManifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const item of items) {
      const view = await svc.view(item.id);
      const configInfo = await svc.deps.content.info(item.id);
      await blobFile(item.id, configInfo?.size ?? 0);
      const layers: Descriptor[] = [];
      for (const diffId of view.config.rootfs.diff_ids) {
        const info = await svc.deps.content.info(diffId);
        if (!info) throw new Error(`layer ${diffId} of image ${item.id} is missing from the blob store`);
        await blobFile(diffId, info.size);
        layers.push({ mediaType: MediaType.OciLayer, digest: diffId, size: info.size });
      }
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: item.id, size: configInfo?.size ?? 0 },
        layers,
      };
      const m = await blobBytes(Buffer.from(JSON.stringify(manifest)));
      const names = item.names.length > 0 ? item.names : [];
      if (names.length === 0) {
        index.manifests.push({ mediaType: MediaType.OciManifest, digest: m.digest, size: m.size });
      }
      for (const n of names) {
        const ref = parseReference(n);
        index.manifests.push({
          mediaType: MediaType.OciManifest,
          digest: m.digest,
          size: m.size,
          annotations: {
            'io.containerd.image.name': n,
            'org.opencontainers.image.ref.name': ref.tag ?? 'latest',
          },
        });
        const top = view.chain.at(-1);
        if (top) {
          const repo = familiarName(ref);
          repositories[repo] = { ...(repositories[repo] ?? {}), [ref.tag ?? 'latest']: digestHex(top) };
        }
      }
      dockerManifest.push({
        Config: `blobs/sha256/${digestHex(item.id)}`,
        RepoTags: names.length > 0 ? names.map((n) => familiarString(parseReference(n))) : null,
        Layers: layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
      });
    }
    const indexJson: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: index.manifests,
    };
    await entry('index.json', Buffer.from(JSON.stringify(indexJson)));
    await entry('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
    await entry('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    if (Object.keys(repositories).length > 0)
      await entry('repositories', Buffer.from(JSON.stringify(repositories)));
    pack.finalize();
  };
  write().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  // tar-stream's pack is a streamx stream; hand callers a Node Readable.
  return Readable.from(pack, { objectMode: false });
}
