// `docker push`: upload the config and every layer the registry lacks (gzip-compressed on the
// fly from the stored tar, deterministically, so the same layer always gets the same digest),
// mounting blobs from another repository of the same registry when one is known, then PUT a
// Docker schema 2 manifest (an OCI manifest for images that came as OCI) under the tag. The
// registry is behind `PushTarget`.
import { Readable, Transform } from 'node:stream';
import { compressLayer } from '../archive/compress-layer.ts';
import type { ContentStore } from '../content/index.ts';
import { NotFoundError } from '../errdefs/index.ts';
import type { DistributionMetadata } from '../metadata/index.ts';
import { type Digest, digestHex } from '../oci/digest.ts';
import type { ImageConfig } from '../oci/image.ts';
import { MediaType } from '../oci/media-types.ts';
import { familiarString, formatReference, type Reference } from '../oci/reference.ts';
import type { ImageService } from './service.ts';

export interface PushTarget {
  readonly ref: Reference;
  hasBlob(digest: Digest, signal?: AbortSignal): Promise<boolean>;
  mount(digest: Digest, from: string, signal?: AbortSignal): Promise<boolean>;
  upload(
    body: Readable,
    opts?: { expected?: Digest; signal?: AbortSignal },
  ): Promise<{ digest: Digest; size: number }>;
  putManifest(tagOrDigest: string, mediaType: string, bytes: Buffer, signal?: AbortSignal): Promise<Digest>;
}

export interface PushEvent {
  readonly status: string;
  readonly id?: string;
  readonly progressDetail?: { current?: number; total?: number };
  /** The final `{Tag, Digest, Size}` Docker sends as aux. */
  readonly aux?: { Tag: string; Digest: string; Size: number };
}

export interface PushOptions {
  readonly distribution?: DistributionMetadata;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PushEvent) => void;
  readonly concurrency?: number;
}

/** Pushes the local image named `ref` (with its tag) to `target`; returns the manifest digest. */
export async function pushImage(
  svc: ImageService,
  target: PushTarget,
  ref: Reference,
  opts: PushOptions = {},
): Promise<{ digest: Digest; size: number }> {
  const emit = opts.onEvent ?? (() => {});
  const signal = opts.signal;
  const tag = ref.tag ?? 'latest';
  const local = formatReference({ domain: ref.domain, path: ref.path, tag });
  const found = svc.tryResolve(local);
  if (!found)
    throw new NotFoundError(
      'IMAGE_NOT_FOUND',
      `An image does not exist locally with the tag: ${familiarString({ domain: ref.domain, path: ref.path })}`,
    );
  const id = found.id;
  const repository = `${ref.domain}/${ref.path}`;
  return svc.gcLock.shared(async () => {
    const { content } = svc.deps;
    const configBytes = await content.readBytes(id);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const diffIds = config.rootfs.diff_ids;
    emit({ status: `The push refers to repository [${repository}]` });
    const short = (d: Digest) => digestHex(d).slice(0, 12);
    // Docker lists the top layer first.
    for (const d of [...diffIds].reverse()) emit({ status: 'Preparing', id: short(d) });

    // An image pulled as OCI goes out as OCI; everything else (built, imported, committed,
    // pulled as Docker) as Docker schema 2.
    const oci = opts.distribution?.manifestType(id) === MediaType.OciManifest;
    const layerType = oci ? MediaType.OciLayerGzip : MediaType.DockerLayerGzip;
    const layers: { digest: Digest; size: number }[] = new Array(diffIds.length);
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= diffIds.length) return;
        layers[i] = await pushLayer(target, diffIds[i]!, repository, { ...opts, emit, content, layerType });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 3) }, worker));

    if (!(await target.hasBlob(id, signal))) {
      await target.upload(readableOf(configBytes), { expected: id, ...(signal ? { signal } : {}) });
    }
    const manifestType = oci ? MediaType.OciManifest : MediaType.DockerManifest;
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: manifestType,
        config: {
          mediaType: oci ? MediaType.OciConfig : MediaType.DockerConfig,
          size: configBytes.length,
          digest: id,
        },
        layers: layers.map((l) => ({ mediaType: layerType, size: l.size, digest: l.digest })),
      }),
    );
    const digest = await target.putManifest(tag, manifestType, manifest, signal);
    await content.put(manifest);
    await svc.register(id, {
      names: [`${formatReference({ domain: ref.domain, path: ref.path })}@${digest}`],
    });
    emit({ status: `${tag}: digest: ${digest} size: ${manifest.length}` });
    emit({ status: '', aux: { Tag: tag, Digest: digest, Size: manifest.length } });
    return { digest, size: manifest.length };
  });
}

function readableOf(b: Buffer): Readable {
  return Readable.from([b]);
}

async function pushLayer(
  target: PushTarget,
  diffId: Digest,
  repository: string,
  o: PushOptions & { emit: (e: PushEvent) => void; content: ContentStore; layerType: string },
): Promise<{ digest: Digest; size: number }> {
  const id = digestHex(diffId).slice(0, 12);
  const signal = o.signal;
  const known = o.distribution?.sources(diffId) ?? [];
  const registry = repository.split('/')[0]!;
  for (const src of known) {
    if (src.repository === repository && (await target.hasBlob(src.digest, signal))) {
      o.emit({ status: 'Layer already exists', id });
      return { digest: src.digest, size: src.size };
    }
  }
  for (const src of known) {
    const [srcRegistry, ...rest] = src.repository.split('/');
    if (srcRegistry !== registry || src.repository === repository) continue;
    if (await target.mount(src.digest, rest.join('/'), signal)) {
      await o.distribution?.add(diffId, { ...src, repository });
      o.emit({ status: `Mounted from ${rest.join('/')}`, id });
      return { digest: src.digest, size: src.size };
    }
  }
  // Compress from the stored tar, deterministically (no timestamp in the header, per-block
  // levels chosen from the content), so pushing the same layer again yields the same blob.
  const total = (await o.content.info(diffId))?.size ?? 0;
  let sent = 0;
  let last = 0;
  const source = o.content.readStream(diffId);
  const counted = source.pipe(
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        sent += chunk.length;
        if (sent - last >= 512 << 10 || sent === total) {
          last = sent;
          o.emit({ status: 'Pushing', id, progressDetail: { current: sent, total } });
        }
        cb(null, chunk);
      },
    }),
  );
  source.on('error', (err) => counted.destroy(err));
  const gz = compressLayer(counted);
  const r = await target.upload(gz, signal ? { signal } : {});
  await o.distribution?.add(diffId, {
    digest: r.digest,
    size: r.size,
    mediaType: o.layerType,
    repository,
  });
  o.emit({ status: 'Pushed', id });
  return r;
}
