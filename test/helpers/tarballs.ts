// Builds tarballs in memory for tests: layers, Docker 20.10-style save archives, OCI layouts.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device';
  body?: Buffer | string;
  linkname?: string;
  mode?: number;
}

export async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    await new Promise<void>((res, rej) =>
      pack.entry(
        {
          name: e.name,
          type,
          mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
          mtime: new Date(1_700_000_000_000),
          uid: 0,
          gid: 0,
          ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
          ...(type === 'character-device' ? { devmajor: 1, devminor: 3 } : {}),
        },
        type === 'file' ? (body ?? Buffer.alloc(0)) : '',
        (err) => (err ? rej(err) : res()),
      ),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface TestImage {
  layers: Buffer[];
  repoTags: string[];
  cmd?: string[];
  labels?: Record<string, string>;
  created?: string;
}

export function imageConfig(img: TestImage): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: img.created ?? '2024-01-01T00:00:00Z',
      config: {
        Cmd: img.cmd ?? ['sh'],
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Labels: img.labels ?? null,
      },
      rootfs: { type: 'layers', diff_ids: img.layers.map((l) => `sha256:${sha256(l)}`) },
      history: img.layers.map((_, i) => ({
        created: '2024-01-01T00:00:00Z',
        created_by: `/bin/sh -c #(nop) step ${i}`,
      })),
    }),
  );
}

/**
 * A docker-archive in Docker 20.10's exact layout: `<v1id>/{VERSION,json,layer.tar}`,
 * `<config-hex>.json`, `manifest.json`, `repositories`. A layer shared with an earlier image
 * is a symlink to the first copy, as Docker writes it.
 */
export async function dockerLegacyArchive(images: TestImage[]): Promise<{ tar: Buffer; ids: string[] }> {
  const entries: Entry[] = [];
  const manifest: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const ids: string[] = [];
  const seenLayer = new Map<string, string>();
  for (const img of images) {
    const cfg = imageConfig(img);
    const cfgHex = sha256(cfg);
    ids.push(`sha256:${cfgHex}`);
    const layerPaths: string[] = [];
    let parent = '';
    for (const layer of img.layers) {
      const v1id = sha256(`${parent} ${sha256(layer)}`);
      const dir = v1id;
      layerPaths.push(`${dir}/layer.tar`);
      entries.push({ name: `${dir}/`, type: 'directory' });
      entries.push({ name: `${dir}/VERSION`, body: '1.0' });
      entries.push({
        name: `${dir}/json`,
        body: JSON.stringify({ id: v1id, ...(parent ? { parent } : {}) }),
      });
      const first = seenLayer.get(sha256(layer));
      if (first)
        entries.push({ name: `${dir}/layer.tar`, type: 'symlink', linkname: `../${first}/layer.tar` });
      else {
        entries.push({ name: `${dir}/layer.tar`, body: layer });
        seenLayer.set(sha256(layer), dir);
      }
      parent = v1id;
    }
    entries.push({ name: `${cfgHex}.json`, body: cfg });
    manifest.push({ Config: `${cfgHex}.json`, RepoTags: img.repoTags, Layers: layerPaths });
    for (const t of img.repoTags) {
      const i = t.lastIndexOf(':');
      repositories[t.slice(0, i)] = { ...(repositories[t.slice(0, i)] ?? {}), [t.slice(i + 1)]: parent };
    }
  }
  entries.push({ name: 'manifest.json', body: JSON.stringify(manifest) });
  entries.push({ name: 'repositories', body: JSON.stringify(repositories) });
  return { tar: await makeTar(entries), ids };
}

/** An OCI image layout tarball with gzip-compressed layers and a name annotation. */
export async function ociLayoutArchive(img: TestImage): Promise<{ tar: Buffer; id: string }> {
  const cfg = imageConfig(img);
  const entries: Entry[] = [{ name: 'oci-layout', body: JSON.stringify({ imageLayoutVersion: '1.0.0' }) }];
  const layers = img.layers.map((l) => {
    const gz = gzipSync(l);
    entries.push({ name: `blobs/sha256/${sha256(gz)}`, body: gz });
    return {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: `sha256:${sha256(gz)}`,
      size: gz.length,
    };
  });
  entries.push({ name: `blobs/sha256/${sha256(cfg)}`, body: cfg });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${sha256(cfg)}`,
        size: cfg.length,
      },
      layers,
    }),
  );
  entries.push({ name: `blobs/sha256/${sha256(manifest)}`, body: manifest });
  entries.push({
    name: 'index.json',
    body: JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${sha256(manifest)}`,
          size: manifest.length,
          annotations: {
            'io.containerd.image.name': img.repoTags[0],
            'org.opencontainers.image.ref.name': 'latest',
          },
        },
      ],
    }),
  });
  return { tar: await makeTar(entries), id: `sha256:${sha256(cfg)}` };
}
