// Turns a layer tarball (plain or gzip) into a committed overlay layer and a stored blob of
// the uncompressed tar. The bytes are read once: decompress → hash + copy into the blob
// store → safe extraction, all in one pipeline.
import { span } from '../base/trace.ts';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { type ApplyLayerResult, applyLayer, decompress, detectCompression } from '../archive/index.ts';
import type { ContentStore } from '../content/index.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';
import { type Digest, digestHex, sha256Digest } from '../oci/digest.ts';
import type { LayerSnapshots } from '../snapshots/index.ts';

export interface IngestedLayer {
  readonly diffId: Digest;
  readonly chainId: Digest;
  readonly size: number;
}

export interface LayerIngestDeps {
  readonly content: ContentStore;
  readonly layers: LayerSnapshots;
}

export function chainIdOf(parent: Digest | undefined, diffId: Digest): Digest {
  return parent === undefined ? diffId : sha256Digest(`${parent} ${diffId}`);
}

/**
 * Extracts `raw` as the layer on top of `parentChain`. When `expectedDiffId` is given and does
 * not match the content, nothing is kept and an error names both digests.
 */
export async function ingestLayer(
  deps: LayerIngestDeps,
  raw: Readable,
  opts: {
    parentChain?: Digest;
    expectedDiffId?: Digest;
    signal?: AbortSignal;
    onProgress?: (bytes: number) => void;
    /** False when `raw` is already the stored uncompressed blob: no second copy is written. */
    keepBlob?: boolean;
  },
): Promise<IngestedLayer> {
  const prepared = await span('layer.prepare', () => deps.layers.prepare());
  const writer = opts.keepBlob === false ? undefined : await deps.content.writer();
  // The source may have failed while we were setting up (its 'error' already fired).
  if (raw.destroyed) {
    await writer?.abort();
    await prepared.abort();
    throw (
      raw.errored ??
      new InvalidArgumentError('LAYER_STREAM_ENDED', 'the layer stream ended before it was read')
    );
  }
  const hash = createHash('sha256');
  let rawBytes = 0;
  // Count bytes as they arrive (before decompression) for progress reports.
  const counted = opts.onProgress
    ? raw.pipe(
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            rawBytes += chunk.length;
            opts.onProgress?.(rawBytes);
            cb(null, chunk);
          },
        }),
      )
    : raw;
  if (counted !== raw) raw.on('error', (err) => counted.destroy(err));
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      if (!writer) return cb(null, chunk);
      writer.write(chunk).then(() => cb(null, chunk), cb);
    },
  });
  try {
    const plain = decompress(counted);
    plain.on('error', (err: Error) => tee.destroy(err));
    const piped = plain.pipe(tee);
    const extracted = new PassThrough();
    piped.pipe(extracted);
    tee.on('error', (err) => extracted.destroy(err));
    // A failed decompression must end the extraction even when the tar reader is waiting for
    // data that will never come: race it against the pipeline's first error, and abort it.
    const stop = new AbortController();
    const onAbort = () => stop.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const broken = new Promise<never>((_, reject) => {
      for (const s of [raw, plain, tee, extracted]) {
        s.once('error', (err: Error) => {
          stop.abort(err);
          reject(err);
        });
      }
    });
    broken.catch(() => {});
    let size: number;
    try {
      ({ size } = await span('layer.apply', () =>
        Promise.race([applyLayer(extracted, prepared.dir, { signal: stop.signal }), broken]),
      ));
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    // tar readers stop at the end-of-archive marker; hash the padding that may follow too.
    await span('layer.drain', () => drain(extracted));
    const diffId = `sha256:${hash.digest('hex')}` as Digest;
    if (opts.expectedDiffId && opts.expectedDiffId !== diffId) {
      throw new InvalidArgumentError(
        'LAYER_DIGEST_MISMATCH',
        `layer content does not match its declared digest: expected ${opts.expectedDiffId}, got ${diffId}; the archive is corrupt or was modified`,
      );
    }
    await writer?.commit({ digest: diffId });
    const chainId = chainIdOf(opts.parentChain, diffId);
    await span('layer.commit', () =>
      prepared.commit({
        name: digestHex(chainId),
        ...(opts.parentChain ? { parent: digestHex(opts.parentChain) } : {}),
        size,
        labels: { diffId },
      }),
    );
    return { diffId, chainId, size };
  } catch (err) {
    raw.destroy();
    await writer?.abort();
    await prepared.abort();
    throw err;
  }
}

/**
 * An uncompressed layer tar extracted while its bytes arrive from somewhere else (`docker load`
 * reading an archive whose manifest comes last): the caller feeds the same bytes it stores as
 * the blob, and commits the result once it knows the layer's chain, or aborts it. The bytes are
 * the blob, so the blob's digest is the diff ID: nothing is hashed here. Bytes that are not a
 * plain tar (compressed, or not a tar at all) leave nothing staged (`end()` resolves false) and
 * the caller extracts from the blob as usual; they never fail the feed.
 */
export interface StagedLayer {
  /** The next bytes; waits while extraction is behind, never throws. */
  write(chunk: Buffer): Promise<void>;
  /** No more bytes. Resolves once extraction ended: whether a layer is staged. */
  end(): Promise<boolean>;
  /** Makes the staged directory the layer `diffId` on top of `parentChain`. */
  commit(diffId: Digest, parentChain: Digest | undefined): Promise<IngestedLayer>;
  abort(): Promise<void>;
}

export async function stageLayer(deps: LayerIngestDeps, signal?: AbortSignal): Promise<StagedLayer> {
  const prepared = await deps.layers.prepare();
  const input = new PassThrough({ highWaterMark: 1 << 20 });
  let result: Promise<ApplyLayerResult | undefined> | undefined;
  let refused = false;
  const refuse = () => {
    refused = true;
    input.destroy();
  };
  return {
    write: async (chunk) => {
      if (refused || input.destroyed) return;
      if (!result) {
        // Only a plain tar is staged: ingestLayer would inflate anything else first.
        if (chunk.length < 6 || detectCompression(chunk) !== 'none') return refuse();
        result = applyLayer(input, prepared.dir, signal ? { signal } : {}).then(
          (r) => r,
          () => undefined,
        );
      }
      if (input.write(chunk)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          input.off('drain', done);
          input.off('close', done);
          resolve();
        };
        input.on('drain', done);
        input.on('close', done);
      });
    },
    end: async () => {
      if (!result) refused = true;
      if (!input.destroyed) input.end();
      return !refused && (await result) !== undefined;
    },
    commit: async (diffId, parentChain) => {
      const r = refused ? undefined : await result;
      if (!r) throw new InvalidArgumentError('LAYER_NOT_STAGED', 'no layer was staged from these bytes');
      const chainId = chainIdOf(parentChain, diffId);
      await prepared.commit({
        name: digestHex(chainId),
        ...(parentChain ? { parent: digestHex(parentChain) } : {}),
        size: r.size,
        labels: { diffId },
      });
      return { diffId, chainId, size: r.size };
    },
    abort: async () => {
      refuse();
      await result;
      await prepared.abort();
    },
  };
}

function drain(s: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (s.readableEnded) return resolve();
    // Destroyed before we listened (e.g. gunzip failed on the trailer after the tar ended): its
    // 'error' already fired and 'end' never will.
    if (s.destroyed) return reject(s.errored ?? new Error('the layer stream ended early'));
    s.on('error', reject);
    s.on('end', resolve);
    s.resume();
  });
}

/** Bytes of regular file content under `dir` (a layer's size as LayerMeta counts it). */
function contentSize(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += fs.lstatSync(p).size;
    }
  };
  walk(dir);
  return total;
}

/**
 * Stores a layer whose extracted form already exists: `tar` (the uncompressed layer, e.g. a
 * pack of `dir`) is hashed and kept as the blob, then `dir` itself is moved into the layer store
 * rather than extracting the tar a second time. `dir` must be on the store's filesystem and
 * must hold exactly what the tar holds (overlay whiteouts as character devices 0/0). The tar
 * is read to its end before `dir` moves.
 */
export async function ingestLayerDir(
  deps: LayerIngestDeps,
  dir: string,
  tar: Readable,
  opts: { parentChain?: Digest; signal?: AbortSignal } = {},
): Promise<IngestedLayer> {
  const writer = await deps.content.writer();
  const hash = createHash('sha256');
  try {
    await span('layer.pack-hash-write', async () => {
      for await (const chunk of tar) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
        hash.update(chunk as Buffer);
        await writer.write(chunk as Buffer);
      }
    });
  } catch (err) {
    tar.destroy();
    await writer.abort();
    throw err;
  }
  const diffId = `sha256:${hash.digest('hex')}` as Digest;
  const chainId = chainIdOf(opts.parentChain, diffId);
  const size = contentSize(dir);
  const prepared = await span('layer.adopt', () => deps.layers.adopt(dir));
  try {
    await writer.commit({ digest: diffId });
    await prepared.commit({
      name: digestHex(chainId),
      ...(opts.parentChain ? { parent: digestHex(opts.parentChain) } : {}),
      size,
      labels: { diffId },
    });
  } catch (err) {
    await writer.abort().catch(() => {});
    await prepared.abort();
    throw err;
  }
  return { diffId, chainId, size };
}
