// Unpacking the build context a client sent (POST /build body) into a private directory.
//
// The archive is untrusted, so this reuses the layer extractor (archive/apply.ts), which
// confines every entry, never writes through a symlink, refuses hard links that leave the tree,
// and keeps modes, owners (as root) and times. On top of it, the build-context rules of
// Docker's daemon (pkg/archive Untar):
// - absolute names are made relative to the context root (`/etc/x` → `etc/x`, `/../x` → `x`),
//   hard link targets alike; a relative `..` that climbs out is refused;
// - symlinks are stored verbatim, whatever their target (absolute, or climbing out with `..`):
//   a context is a copy of a client's directory, and Docker's daemon (which untars it in a
//   chroot) keeps such links too. That is safe because nothing here or later follows a link
//   on the host: the extractor never writes through one (an entry `l/x` below a symlink `l`
//   is refused, as is a hard link whose target passes through one), COPY/ADD follow a source
//   link only inside the context root (scope.ts), and links below a copied folder are copied
//   as links;
// - `.wh.*` names are ordinary files (a context is not a layer);
// - device nodes are refused (Docker would mknod them; a client has no business creating
//   devices in the daemon's filesystem);
// - plain, gzip, bzip2, xz or zstd tar, detected by magic (decompress.ts).
//
// Errors name the entry: `refusing build context entry "../x": path escapes the build context root`.

import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { applyLayer } from '../../archive/index.ts';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { decompressContext } from './decompress.ts';
import { type ChecksumCache, fileIdentity } from './checksum.ts';
import { cleanPath } from './glob.ts';

export interface ExtractContextOptions {
  readonly signal?: AbortSignal;
  /**
   * Filled with the content digest of every file written, keyed as checksumSources' cache
   * (fileIdentity): COPY's cache key then needs no second read of the context.
   */
  readonly digests?: ChecksumCache;
}

export interface ExtractContextResult {
  /** Entries written (files, directories, links ...; not the root). */
  readonly files: number;
  /** Bytes of regular file content. */
  readonly bytes: number;
}

function recordDigest(digests: ChecksumCache): (fd: number, sha256: string) => void {
  return (fd, sha256) => digests.set(fileIdentity(fs.fstatSync(fd, { bigint: true })), sha256);
}

/** Docker's normalisation of entry names: absolute names become relative to the root. */
function relativeName(name: string): string {
  if (!name.startsWith('/')) return name;
  const cleaned = cleanPath(name).slice(1);
  return cleaned === '' ? './' : cleaned;
}

/** Layer wording → build-context wording, same codes' meaning under a BUILD_CONTEXT_ prefix. */
function asContextError(err: unknown): unknown {
  if (!(err instanceof InvalidArgumentError) || !err.code.startsWith('LAYER_')) return err;
  let message = err.message
    .replaceAll('layer entry', 'build context entry')
    .replaceAll('layer root', 'build context root')
    .replaceAll('in the layer', 'in the build context')
    .replace(/^layer is not/, 'build context is not');
  if (err.code === 'LAYER_UNSUPPORTED_COMPRESSION') {
    message = `unsupported build context compression (${err.message}); send a plain or gzip-compressed tar`;
  }
  return new InvalidArgumentError(`BUILD_CONTEXT_${err.code.slice('LAYER_'.length)}`, message, {
    cause: err,
  });
}

/**
 * Extracts a build context tar (plain or compressed) into `dir`, an existing empty directory owned by
 * the daemon (created if missing). On failure `dir` may be partly written and the caller removes
 * it; nothing outside `dir` is ever created or changed. `tar` is consumed or destroyed.
 */
export async function extractContext(
  tar: Readable,
  dir: string,
  opts: ExtractContextOptions = {},
): Promise<ExtractContextResult> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // applyLayer watches the signal once it runs; until then (sniffing the format) we do.
  const onAbort = (): void => {
    tar.destroy(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let plain: Readable;
  try {
    plain = await decompressContext(tar);
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  try {
    const r = await applyLayer(plain, dir, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      whiteouts: false,
      allowDevices: false,
      rename: relativeName,
      ...(opts.digests ? { onFileDigest: recordDigest(opts.digests) } : {}),
    });
    return { files: r.entries, bytes: r.size };
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw asContextError(err);
  }
}
