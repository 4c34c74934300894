// `docker pull`: resolve a tag or digest to a manifest (picking the platform from an index),
// fetch the config, then download and extract the missing layers in parallel — each layer
// streams from the registry through decompression into the blob store and its overlay
// directory at once, and is checked against the config's diff IDs and its own digest. The
// registry itself is behind `PullSource` (the daemon wires the registry client to it).
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { KeyedMutex } from '../base/lock.ts';
import { InvalidArgumentError, NotFoundError } from '../errdefs/index.ts';
import type { DistributionMetadata } from '../metadata/index.ts';
import { chainIds, type Digest, digestHex, isDigest, sha256Digest } from '../oci/digest.ts';
import type { Descriptor, ImageConfig, ImageIndex, Platform } from '../oci/image.ts';
import { hostPlatform } from '../oci/image.ts';
import { MediaType } from '../oci/media-types.ts';
import { checkIndex, checkManifest } from '../oci/shape.ts';
import { familiarString, formatReference, type Reference } from '../oci/reference.ts';
import { ingestLayer } from './layer-ingest.ts';
import type { ImageService } from './service.ts';

/** What pull needs from a registry repository (RepositorySession implements it). */
export interface PullSource {
  manifest(
    tagOrDigest: string,
    signal?: AbortSignal,
  ): Promise<{ mediaType: string; digest: Digest; bytes: Buffer }>;
  blob(
    digest: Digest,
    opts?: { offset?: number; signal?: AbortSignal },
  ): Promise<{ body: Readable; size: number | undefined; offset: number }>;
}

/** Docker's pull progress messages (the API edge writes them as JSON lines). */
export interface PullEvent {
  readonly status: string;
  readonly id?: string;
  readonly progressDetail?: { current?: number; total?: number };
}

export interface PullOptions {
  readonly platform?: Platform;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PullEvent) => void;
  /** Where to record which compressed blob holds each layer (for later pushes). */
  readonly distribution?: DistributionMetadata;
  /** Parallel layer downloads. Default 3 (Docker's max-concurrent-downloads). */
  readonly concurrency?: number;
}

const INDEX_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
const MANIFEST_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];
const LAYER_TYPES: readonly string[] = [
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.DockerLayer,
  MediaType.DockerLayerGzip,
];

/** The download stopped because unpacking failed first: that error is the one to report. */
const UNPACK_STOPPED = new Error('the layer could not be unpacked');

/** One extraction per chain ID at a time, across concurrent pulls. */
const layerLocks = new KeyedMutex();

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Picks the manifest for `want` from an index, as Docker's platform matcher does. */
export function pickPlatform(index: ImageIndex, want: Platform): Descriptor {
  const candidates = index.manifests.filter(
    (m) =>
      MANIFEST_TYPES.includes(m.mediaType) &&
      m.platform?.os === want.os &&
      m.platform?.architecture === want.architecture,
  );
  const exact = candidates.find((m) => (m.platform?.variant ?? '') === (want.variant ?? ''));
  const chosen = exact ?? (want.variant ? undefined : candidates[0]);
  if (!chosen) {
    throw new NotFoundError(
      'NO_MATCHING_PLATFORM',
      `no matching manifest for ${platformString(want)} in the manifest list entries (available: ${index.manifests.map((m) => (m.platform ? platformString(m.platform) : 'unknown')).join(', ') || 'none'})`,
    );
  }
  return chosen;
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new InvalidArgumentError('MANIFEST_INVALID', `${what} is not valid JSON`);
  }
}

/** Pulls `ref` (tag or digest) from `source`; resolves with the image ID. */
export async function pullImage(
  svc: ImageService,
  source: PullSource,
  ref: Reference,
  opts: PullOptions = {},
): Promise<Digest> {
  const emit = opts.onEvent ?? (() => {});
  const signal = opts.signal;
  const wanted = ref.digest ?? ref.tag ?? 'latest';
  let top = await source.manifest(wanted, signal);
  // After the first answer, as Docker: a missing image is a plain error, not a broken stream.
  emit({ status: `Pulling from ${ref.path}`, id: wanted });
  if (INDEX_TYPES.includes(top.mediaType)) {
    const index = checkIndex(parseJson<unknown>(top.bytes, 'the image index'), 'the image index');
    const chosen = pickPlatform(index, opts.platform ?? hostPlatform());
    const m = await source.manifest(chosen.digest, signal);
    if (!MANIFEST_TYPES.includes(m.mediaType)) {
      throw new InvalidArgumentError(
        'MANIFEST_INVALID',
        `the index entry ${chosen.digest} is a ${m.mediaType}, not an image manifest`,
      );
    }
    top = { mediaType: m.mediaType, digest: top.digest, bytes: m.bytes };
  } else if (!MANIFEST_TYPES.includes(top.mediaType)) {
    throw new InvalidArgumentError(
      'UNSUPPORTED_MANIFEST',
      `the registry sent a ${top.mediaType || 'manifest of unknown type'}; Berth pulls OCI and Docker schema 2 images only`,
    );
  }
  const manifest = checkManifest(parseJson<unknown>(top.bytes, 'the image manifest'), 'the image manifest');
  for (const l of manifest.layers) {
    if (!LAYER_TYPES.includes(l.mediaType)) {
      throw new InvalidArgumentError(
        'UNSUPPORTED_LAYER',
        `layer ${l.digest} has media type ${l.mediaType}, which Berth cannot unpack (gzip or plain tar layers only)`,
      );
    }
  }

  return svc.gcLock.shared(async () => {
    const { content, layers } = svc.deps;
    // The config: small, verified by digest, stored byte for byte (its digest is the image ID).
    let configBytes: Buffer;
    if (await content.info(manifest.config.digest))
      configBytes = await content.readBytes(manifest.config.digest);
    else {
      const b = await source.blob(manifest.config.digest, signal ? { signal } : {});
      configBytes = await readAll(b.body, 16 << 20);
      if (sha256Digest(configBytes) !== manifest.config.digest) {
        throw new InvalidArgumentError(
          'CONFIG_DIGEST_MISMATCH',
          `the image config does not match its digest ${manifest.config.digest}`,
        );
      }
    }
    const config = parseJson<ImageConfig>(configBytes, 'the image config');
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidArgumentError(
        'MANIFEST_INVALID',
        `the manifest lists ${manifest.layers.length} layers but the config ${diffIds.length} diff IDs`,
      );
    }
    // Diff IDs name layer directories (the first chain ID is the first diff ID itself): a
    // registry's config must not turn `sha256:../../x` into a path (load.ts checks the same).
    for (const d of diffIds) {
      if (!isDigest(d)) {
        throw new InvalidArgumentError(
          'CONFIG_INVALID',
          `the image config has an invalid diff ID ${JSON.stringify(d)}`,
        );
      }
    }
    const chain = chainIds(diffIds);
    const present = await Promise.all(
      chain.map(async (c, i) =>
        Boolean((await layers.get(digestHex(c))) && (await content.info(diffIds[i]!))),
      ),
    );
    const short = (d: Digest) => digestHex(d).slice(0, 12);
    for (const [i, l] of manifest.layers.entries()) {
      emit({
        status: present[i] ? 'Already exists' : 'Pulling fs layer',
        id: short(l.digest),
        progressDetail: {},
      });
    }

    let next = 0;
    let failed = false;
    const worker = async () => {
      for (;;) {
        const i = next++;
        // After a failure no new layer starts; the ones under way finish (and are kept, so a
        // retry does not download them again).
        if (i >= manifest.layers.length || failed) return;
        if (present[i]) continue;
        const desc = manifest.layers[i]!;
        await layerLocks.run(digestHex(chain[i]!), async () => {
          if ((await layers.get(digestHex(chain[i]!))) && (await content.info(diffIds[i]!))) {
            emit({ status: 'Already exists', id: short(desc.digest) });
            return;
          }
          await fetchLayer(svc, source, desc, {
            parentChain: i > 0 ? chain[i - 1] : undefined,
            diffId: diffIds[i]!,
            signal,
            emit,
          });
        });
      }
    };
    const settled = await Promise.allSettled(
      Array.from({ length: Math.max(1, opts.concurrency ?? 3) }, () =>
        worker().catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const failure = settled.find((r) => r.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;

    // Keep the config and the manifest (for RepoDigests and pushes by digest).
    const { digest: id } = await content.put(configBytes, manifest.config.digest);
    await content.put(top.bytes);
    const repo = formatReference({ domain: ref.domain, path: ref.path });
    const names = [`${repo}@${top.digest}`, ...(ref.tag ? [formatReference(ref)] : [])];
    const before = ref.tag ? svc.tryResolve(formatReference(ref))?.id : undefined;
    await svc.register(id, { names });
    await opts.distribution?.setManifestType(id, top.mediaType);
    for (const [i, l] of manifest.layers.entries()) {
      await opts.distribution?.add(diffIds[i]!, {
        digest: l.digest,
        size: l.size,
        mediaType: l.mediaType,
        repository: `${ref.domain}/${ref.path}`,
      });
    }
    emit({ status: `Digest: ${top.digest}` });
    const shown = familiarString(ref);
    emit({
      status:
        before === id
          ? `Status: Image is up to date for ${shown}`
          : `Status: Downloaded newer image for ${shown}`,
    });
    return id;
  });
}

/**
 * Streams one layer into the store: download → (hash of the compressed bytes) → ingestLayer.
 * A connection that drops mid-layer is resumed with a Range request where the registry allows.
 */
async function fetchLayer(
  svc: ImageService,
  source: PullSource,
  desc: Descriptor,
  o: {
    parentChain: Digest | undefined;
    diffId: Digest;
    signal: AbortSignal | undefined;
    emit: (e: PullEvent) => void;
  },
): Promise<void> {
  const id = digestHex(desc.digest).slice(0, 12);
  const hash = createHash('sha256');
  const feed = new PassThrough({ highWaterMark: 1 << 20 });
  // Failures are reported through the two promises below; once ingestLayer has stopped reading,
  // an error on the feed must not become an unhandled 'error' event (it would end berthd).
  feed.on('error', () => {});
  let received = 0;
  let lastReport = 0;
  const total = desc.size;
  const pump = async () => {
    for (let attempt = 0; ; attempt++) {
      const b = await source.blob(desc.digest, {
        offset: received,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      if (b.offset !== received) {
        throw new InvalidArgumentError(
          'RESUME_UNSUPPORTED',
          `the registry cannot resume blob ${desc.digest}; pull again`,
        );
      }
      try {
        for await (const chunk of b.body) {
          const c = chunk as Buffer;
          received += c.length;
          hash.update(c);
          if (feed.destroyed) throw UNPACK_STOPPED;
          // 'close' too: when unpacking failed the feed is destroyed and never drains.
          if (!feed.write(c)) {
            await new Promise((r) => {
              feed.once('drain', r);
              feed.once('close', r);
            });
          }
          if (received - lastReport >= 512 << 10 || received === total) {
            lastReport = received;
            o.emit({ status: 'Downloading', id, progressDetail: { current: received, total } });
          }
        }
        break;
      } catch (err) {
        if (attempt >= 3 || o.signal?.aborted) throw err;
        o.emit({ status: `Retrying after ${(err as Error).message}`, id });
      }
    }
    if (received !== total) {
      throw new InvalidArgumentError(
        'BLOB_SIZE_MISMATCH',
        `blob ${desc.digest} is ${received} bytes, the manifest says ${total}`,
      );
    }
    const got = `sha256:${hash.digest('hex')}` as Digest;
    if (got !== desc.digest) {
      throw new InvalidArgumentError(
        'BLOB_DIGEST_MISMATCH',
        `blob ${desc.digest} failed verification: the registry sent content with digest ${got}`,
      );
    }
    o.emit({ status: 'Verifying Checksum', id });
    o.emit({ status: 'Download complete', id });
    feed.end();
  };
  const pumped = pump().catch((err: Error) => {
    feed.destroy(err);
    throw err;
  });
  const ingested = ingestLayer(svc.deps, feed, {
    ...(o.parentChain ? { parentChain: o.parentChain } : {}),
    expectedDiffId: o.diffId,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  // The download's error is the one to report when both fail.
  const [p, i] = await Promise.allSettled([pumped, ingested]);
  if (p.status === 'rejected' && !(p.reason === UNPACK_STOPPED && i.status === 'rejected')) throw p.reason;
  if (i.status === 'rejected') throw i.reason;
  o.emit({ status: 'Pull complete', id });
}

async function readAll(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += (c as Buffer).length;
    if (n > limit) throw new InvalidArgumentError('BLOB_TOO_LARGE', `blob larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
