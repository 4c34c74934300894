// `docker import`: a root filesystem tarball becomes a one-layer image.
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../errdefs/index.ts';
import type { Digest } from '../oci/digest.ts';
import { hostPlatform, type ImageConfig } from '../oci/image.ts';
import { formatReference, parseReference, withDefaultTag } from '../oci/reference.ts';
import { applyChanges } from './changes.ts';
import { ingestLayer } from './layer-ingest.ts';
import type { ImageService } from './service.ts';

export interface ImportOptions {
  /** `repo` or `repo:tag`; empty for an untagged image. */
  readonly reference?: string;
  readonly changes?: readonly string[];
  readonly message?: string;
  /** Where the tarball came from, for the default history comment ("-" for stdin). */
  readonly sourceName?: string;
  readonly platform?: { os?: string; architecture?: string; variant?: string };
  readonly signal?: AbortSignal;
}

export async function importImage(svc: ImageService, source: Readable, opts: ImportOptions): Promise<Digest> {
  // Validate everything cheap before reading a byte of the tarball.
  const name = opts.reference ? formatReference(withDefaultTag(parseReference(opts.reference))) : undefined;
  if (opts.reference && parseReference(opts.reference).digest) {
    throw new InvalidArgumentError(
      'INVALID_REFERENCE',
      `cannot import with a digest reference: ${opts.reference}`,
    );
  }
  const containerConfig = applyChanges({}, opts.changes ?? []);
  const platform = { ...hostPlatform(), ...(opts.platform ?? {}) };
  if (platform.os !== 'linux') {
    throw new InvalidArgumentError(
      'INVALID_PLATFORM',
      `unsupported os "${platform.os}": only linux images can be imported`,
    );
  }
  return svc.gcLock.shared(async () => {
    const layer = await ingestLayer(svc.deps, source, opts.signal ? { signal: opts.signal } : {});
    const created = new Date().toISOString();
    const comment = opts.message || `Imported from ${opts.sourceName ?? '-'}`;
    const config: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created,
      comment,
      config: containerConfig,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, comment }],
    };
    const blob = await svc.deps.content.put(Buffer.from(JSON.stringify(config)));
    await svc.register(blob.digest, name ? { names: [name] } : {});
    svc.deps.log('info', 'image imported', { id: blob.digest, ref: name });
    return blob.digest;
  });
}
