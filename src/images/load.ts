// `docker load`: reads a docker-archive (Docker 20.10's `<id>/layer.tar` layout or Docker 25+'s
// OCI layout with manifest.json) or a plain OCI image layout tarball. Archive entries stream
// straight into the blob store (no temp directory); small JSON files stay in memory. Only
// when every file the manifests name is present are layers extracted, each verified against
// the config's diff IDs, and only then are images named: a failure leaves no partial image.
import { span } from '../base/trace.ts';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { decompress } from '../archive/index.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';
import { chainIds, type Digest, digestHex, isDigest, shortHex } from '../oci/digest.ts';
import { hostPlatform, type ImageConfig, type ImageIndex, type ImageManifest } from '../oci/image.ts';
import { MediaType } from '../oci/media-types.ts';
import { checkIndex, checkManifest, MAX_LAYERS } from '../oci/shape.ts';
import { familiarString, formatReference, parseReference, withDefaultTag } from '../oci/reference.ts';
import { type IngestedLayer, ingestLayer, type StagedLayer, stageLayer } from './layer-ingest.ts';
import type { ImageService } from './service.ts';

export type LoadEvent =
  | { readonly kind: 'layer-progress'; readonly id: string; readonly current: number; readonly total: number }
  | { readonly kind: 'layer-done'; readonly id: string }
  | { readonly kind: 'loaded'; readonly name: string }
  | { readonly kind: 'loaded-id'; readonly id: Digest };

/** Small metadata files are kept in memory; anything bigger is content. */
const SMALL_FILE_MAX = 4 << 20;
/** Blobs up to this size are also kept in memory: configs and manifests are far smaller. */
const SMALL_BLOB_MAX = 256 << 10;

interface ArchiveIndex {
  /** path → blob digest (regular files stored in the blob store) */
  readonly blobs: Map<string, Digest>;
  /** path → bytes for small JSON/text files */
  readonly small: Map<string, Buffer>;
  /** path → target path (symlinks and hard links inside the archive) */
  readonly links: Map<string, string>;
  /** blob digest → that blob extracted as a layer while it was read (plain tars only) */
  readonly staged: Map<Digest, StagedLayer>;
}

interface PlannedImage {
  readonly config: ImageConfig;
  /** The config exactly as in the archive: its digest is the image ID. */
  readonly configBytes: Buffer;
  readonly layers: { readonly digest: Digest; readonly expectedDiffId: Digest }[];
  readonly names: string[];
}

function bad(msg: string): never {
  throw new InvalidArgumentError('INVALID_ARCHIVE', `invalid image archive: ${msg}`);
}

function cleanEntryPath(name: string): string {
  if (name.startsWith('/')) bad(`entry "${name}" has an absolute path`);
  const norm = path.posix.normalize(name).replace(/\/$/, '');
  if (norm === '..' || norm.startsWith('../')) bad(`entry "${name}" escapes the archive`);
  return norm === '.' ? '' : norm;
}

async function readArchive(svc: ImageService, raw: Readable, signal?: AbortSignal): Promise<ArchiveIndex> {
  const idx: ArchiveIndex = { blobs: new Map(), small: new Map(), links: new Map(), staged: new Map() };
  // Blob commits (fsync, rename) and the end of each staged extraction run while the next
  // entries are read; all are joined before the archive counts as read. None ever rejects
  // unobserved: each records its error here.
  const pending: Promise<void>[] = [];
  const failures: unknown[] = [];
  const extract = tar.extract();
  const plain = decompress(raw);
  plain.on('error', (err: Error) => extract.destroy(err));
  plain.pipe(extract);
  const onAbort = () => extract.destroy(new Error('load cancelled'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = cleanEntryPath(h.name);
      if (h.type === 'symlink' || h.type === 'link') {
        const target =
          h.type === 'symlink'
            ? path.posix.join(path.posix.dirname(name), h.linkname ?? '')
            : (h.linkname ?? '');
        idx.links.set(name, cleanEntryPath(target));
        entry.resume();
        continue;
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      const base = path.posix.basename(name);
      const size = h.size ?? 0;
      const isBlob = blobNameDigest(name) !== undefined;
      // Metadata stays in memory: named JSON files, and small blobs (OCI configs and manifests
      // have hex names, so size is the only hint). Small blobs also go to the store.
      const isMeta =
        (isBlob && size <= SMALL_BLOB_MAX) ||
        (size <= SMALL_FILE_MAX &&
          (base.endsWith('.json') ||
            base === 'repositories' ||
            base === 'oci-layout' ||
            base === 'VERSION' ||
            base === 'json'));
      if (isMeta) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        const buf = Buffer.concat(chunks);
        idx.small.set(name, buf);
        if (!isBlob) continue;
        const info = await svc.deps.content.put(buf);
        checkBlobName(name, info.digest);
        idx.blobs.set(name, info.digest);
        continue;
      }
      // Anything big may be a layer: it is extracted as it streams in (one pass over the bytes,
      // overlapping the read of the rest), and used if the manifest names it as a plain layer.
      const w = await svc.deps.content.writer();
      const staged = await stageLayer(svc.deps, signal);
      let ended: Promise<boolean>;
      try {
        for await (const c of entry) await Promise.all([w.write(c as Buffer), staged.write(c as Buffer)]);
        ended = staged.end();
      } catch (err) {
        await w.abort();
        await staged.abort();
        throw err;
      }
      const expected = blobNameDigest(name);
      const job = w.commit(expected ? { digest: expected } : {}).then(
        async (info) => {
          idx.blobs.set(name, info.digest);
          if ((await ended) && !idx.staged.has(info.digest)) idx.staged.set(info.digest, staged);
          else await staged.abort();
        },
        async (err: unknown) => {
          await staged.abort();
          failures.push(
            (err as { code?: string }).code === 'DIGEST_MISMATCH'
              ? new InvalidArgumentError(
                  'INVALID_ARCHIVE',
                  `invalid image archive: ${name} does not match its digest name: ${(err as Error).message}`,
                )
              : err,
          );
        },
      );
      pending.push(job.catch((err: unknown) => void failures.push(err)));
    }
    await Promise.all(pending);
    if (failures.length > 0) throw failures[0];
  } catch (err) {
    await Promise.all(pending);
    await abortStaged(idx);
    if (err instanceof InvalidArgumentError) throw err;
    const msg = (err as Error).message;
    bad(`could not read the archive (${msg}); is it a complete tar file written by docker save?`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return idx;
}

async function abortStaged(idx: ArchiveIndex): Promise<void> {
  const all = [...idx.staged.values()];
  idx.staged.clear();
  await Promise.all(all.map((s) => s.abort().catch(() => {})));
}

function blobNameDigest(name: string): Digest | undefined {
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
  return m ? (`sha256:${m[1]}` as Digest) : undefined;
}

function checkBlobName(name: string, digest: Digest): void {
  const expected = blobNameDigest(name);
  if (expected && expected !== digest) bad(`${name} does not match its digest name (content is ${digest})`);
}

function resolvePath(idx: ArchiveIndex, p: string): string {
  let cur = cleanEntryPath(p);
  for (let i = 0; i < 16 && idx.links.has(cur); i++) cur = idx.links.get(cur)!;
  return cur;
}

function blobAt(idx: ArchiveIndex, p: string, what: string): Digest {
  const d = idx.blobs.get(resolvePath(idx, p));
  if (!d) bad(`${what} "${p}" named in the manifest is missing from the archive`);
  return d;
}

function jsonAt(idx: ArchiveIndex, p: string, what: string): unknown {
  const buf = idx.small.get(resolvePath(idx, p));
  if (!buf) bad(`${what} "${p}" is missing from the archive`);
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch {
    bad(`${what} "${p}" is not valid JSON`);
  }
}

function parseConfig(idx: ArchiveIndex, p: string): { config: ImageConfig; configBytes: Buffer } {
  const config = jsonAt(idx, p, 'image config') as ImageConfig;
  if (!config || typeof config !== 'object' || !Array.isArray(config.rootfs?.diff_ids)) {
    bad(`image config "${p}" has no rootfs.diff_ids`);
  }
  for (const d of config.rootfs.diff_ids)
    if (!isDigest(d)) bad(`image config "${p}" has an invalid diff ID "${d}"`);
  return { config, configBytes: idx.small.get(resolvePath(idx, p))! };
}

function planDockerArchive(idx: ArchiveIndex): PlannedImage[] {
  const manifest = jsonAt(idx, 'manifest.json', 'manifest');
  if (!Array.isArray(manifest)) bad('manifest.json is not a list of images');
  return manifest.map((m: { Config?: string; RepoTags?: string[] | null; Layers?: string[] }) => {
    if (typeof m?.Config !== 'string' || !Array.isArray(m.Layers))
      bad('manifest.json entry lacks Config or Layers');
    if (m.Layers.length > MAX_LAYERS)
      bad(
        `manifest.json lists ${m.Layers.length} layers; at most ${MAX_LAYERS} are supported (overlayfs stacks no more)`,
      );
    const { config, configBytes } = parseConfig(idx, m.Config);
    if (m.Layers.length !== config.rootfs.diff_ids.length) {
      bad(
        `manifest.json lists ${m.Layers.length} layers but the config has ${config.rootfs.diff_ids.length}`,
      );
    }
    const layers = m.Layers.map((l, i) => ({
      digest: blobAt(idx, l, 'layer'),
      expectedDiffId: config.rootfs.diff_ids[i]!,
    }));
    const names = (m.RepoTags ?? []).map((t) => formatReference(withDefaultTag(parseReference(t))));
    return { config, configBytes, layers, names };
  });
}

function planOciLayout(idx: ArchiveIndex): PlannedImage[] {
  const index = jsonAt(idx, 'index.json', 'index') as ImageIndex;
  if (!Array.isArray(index?.manifests)) bad('index.json has no manifests');
  const out: PlannedImage[] = [];
  const visit = (
    desc: { mediaType: string; digest: Digest; annotations?: Record<string, string> },
    depth: number,
  ) => {
    if (depth > 4) bad('index.json nests indexes too deeply');
    const p = `blobs/sha256/${digestHex(desc.digest)}`;
    const raw = jsonAt(idx, p, 'manifest') as ImageManifest & ImageIndex;
    const name = desc.annotations?.['io.containerd.image.name'];
    if (Array.isArray(raw?.manifests)) {
      const doc = checkIndex(raw, `invalid image archive: ${p}`);
      const host = hostPlatform();
      const pick =
        doc.manifests.find(
          (m) => m.platform?.os === host.os && m.platform.architecture === host.architecture,
        ) ?? doc.manifests.find((m) => !m.platform);
      if (!pick) bad(`no image for platform ${host.os}/${host.architecture} in ${p}`);
      visit({ ...pick, ...(name ? { annotations: { 'io.containerd.image.name': name } } : {}) }, depth + 1);
      return;
    }
    if (!raw?.config || !Array.isArray(raw.layers)) bad(`${p} is neither an image manifest nor an index`);
    const doc = checkManifest(raw, `invalid image archive: ${p}`);
    const cfgPath = `blobs/sha256/${digestHex(doc.config.digest)}`;
    const { config, configBytes } = parseConfig(idx, cfgPath);
    if (doc.layers.length !== config.rootfs.diff_ids.length) {
      bad(
        `manifest ${p} lists ${doc.layers.length} layers but the config has ${config.rootfs.diff_ids.length}`,
      );
    }
    const layers = doc.layers.map((l, i) => {
      if (l.mediaType === MediaType.OciLayerZstd)
        bad(`layer ${l.digest} is zstd-compressed, which Berth cannot read yet`);
      return {
        digest: blobAt(idx, `blobs/sha256/${digestHex(l.digest)}`, 'layer'),
        expectedDiffId: config.rootfs.diff_ids[i]!,
      };
    });
    const names = name ? [formatReference(withDefaultTag(parseReference(name)))] : [];
    out.push({ config, configBytes, layers, names });
  };
  for (const m of index.manifests) visit(m as never, 0);
  return out;
}

export async function loadImages(
  svc: ImageService,
  raw: Readable,
  opts: { signal?: AbortSignal; onEvent?: (e: LoadEvent) => void } = {},
): Promise<{ ids: Digest[]; names: string[] }> {
  const emit = opts.onEvent ?? (() => {});
  return svc.gcLock.shared(async () => {
    const idx = await span('load.read-archive', () => readArchive(svc, raw, opts.signal));
    try {
      return await loadPlanned(svc, idx, emit, opts.signal);
    } finally {
      await abortStaged(idx);
    }
  });
}

async function loadPlanned(
  svc: ImageService,
  idx: ArchiveIndex,
  emit: (e: LoadEvent) => void,
  signal: AbortSignal | undefined,
): Promise<{ ids: Digest[]; names: string[] }> {
  const hasDocker = idx.small.has('manifest.json');
  if (!hasDocker && !idx.small.has('index.json')) {
    bad(
      'found neither manifest.json nor index.json; expected an archive written by docker save or an OCI image layout',
    );
  }
  const plan = hasDocker ? planDockerArchive(idx) : planOciLayout(idx);
  const loadedIds: Digest[] = [];
  const loadedNames: string[] = [];
  for (const img of plan) {
    // Stored exactly as received, never re-serialised: the image ID is this digest.
    const { digest: id } = await svc.deps.content.put(img.configBytes);
    const chain = chainIds(img.config.rootfs.diff_ids);
    const commits: Promise<IngestedLayer>[] = [];
    for (const [li, layer] of img.layers.entries()) {
      const chainId = chain[li]!;
      const short = shortHex(layer.expectedDiffId);
      if (await svc.deps.layers.get(digestHex(chainId))) {
        emit({ kind: 'layer-done', id: short });
        continue;
      }
      // Extracted while the archive was read: the blob is the plain layer tar, its digest
      // the diff ID. Committed in parallel (each commit is its own fsyncs), joined below.
      const staged = layer.digest === layer.expectedDiffId ? idx.staged.get(layer.digest) : undefined;
      if (staged) {
        idx.staged.delete(layer.digest);
        const parent = li > 0 ? chain[li - 1]! : undefined;
        const committed = span('load.commit-staged', () => staged.commit(layer.expectedDiffId, parent));
        // Observed at once: a later step's failure must not leave this rejection unhandled.
        committed.then(
          () => emit({ kind: 'layer-done', id: short }),
          () => {},
        );
        commits.push(committed);
        continue;
      }
      const info = await svc.deps.content.info(layer.digest);
      const total = info?.size ?? 0;
      let last = 0;
      await span('load.ingest-layer', () =>
        ingestLayer(svc.deps, svc.deps.content.readStream(layer.digest), {
          ...(li > 0 ? { parentChain: chain[li - 1]! } : {}),
          expectedDiffId: layer.expectedDiffId,
          ...(signal ? { signal } : {}),
          keepBlob: layer.digest !== layer.expectedDiffId,
          onProgress: (current) => {
            if (current - last >= 1 << 20 || current === total) {
              last = current;
              emit({ kind: 'layer-progress', id: short, current, total });
            }
          },
        }),
      );
      emit({ kind: 'layer-done', id: short });
    }
    const settled = await Promise.allSettled(commits);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    // Names of an image loaded earlier in this archive move to this one, as in Docker.
    await svc.register(id, { names: img.names });
    loadedIds.push(id);
    if (img.names.length === 0) emit({ kind: 'loaded-id', id });
    for (const n of img.names) {
      loadedNames.push(n);
      emit({ kind: 'loaded', name: familiarString(parseReference(n)) });
    }
  }
  return { ids: loadedIds, names: loadedNames };
}
