// The builder's wiring: its service, the context extraction for POST /build, base image pulls
// through the registry client, and ADD's URL downloads. Kept out of daemon.ts to keep that
// composition root readable.
import { span } from '../base/trace.ts';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyLayer } from '../archive/index.ts';
import { decompressContext } from '../build/context/decompress.ts';
import type { BuildBackend } from '../api/router/build/backend.ts';
import type { Log } from '../base/log.ts';
import {
  detachNamedContexts,
  extractContext,
  pruneBuildFiles,
  readContextDockerfile,
} from '../build/context/index.ts';
import { BuildService, parseDockerfile } from '../build/index.ts';
import type { ContainerService } from '../containers/index.ts';
import { ContainerFsOps } from '../containers/index.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';
import type { ImageService } from '../images/index.ts';
import { BuildCacheStore } from '../metadata/index.ts';
import type { Digest } from '../oci/digest.ts';
import type { Platform } from '../oci/image.ts';

export interface BuildWiring {
  readonly service: BuildService;
  readonly backend: BuildBackend;
}

export async function wireBuilder(o: {
  dataRoot: string;
  images: ImageService;
  containers: ContainerService;
  log: Log;
  pull: (ref: string, platform: Platform | undefined, signal: AbortSignal) => Promise<Digest>;
}): Promise<BuildWiring> {
  const root = path.join(o.dataRoot, 'build');
  const cache = await BuildCacheStore.open(path.join(o.dataRoot, 'build-cache'));
  // ADD of a local archive: unpacked by the layer extractor (every path confined to the
  // destination, nothing written through a symlink), any compression the context accepts.
  const extractArchive = async (file: string, dir: string) => {
    const plain = await decompressContext(createReadStream(file));
    await applyLayer(plain, dir, { whiteouts: false, allowDevices: false });
  };
  const service = new BuildService({
    root,
    log: o.log,
    images: o.images,
    containers: o.containers,
    fsops: new ContainerFsOps(o.containers),
    cache,
    layersRoot: path.join(o.dataRoot, 'layers'),
    cacheMountsRoot: path.join(root, 'cache-mounts'),
    pull: o.pull,
    imageUsers: (id) => o.containers.usersOf(id),
    extractArchive,
    fetchUrl: async (url, file, signal) => {
      const res = await fetch(url, { signal, redirect: 'follow' });
      if (!res.ok || !res.body) {
        throw new InvalidArgumentError(
          'ADD_URL_FAILED',
          `ADD ${url}: the server answered ${res.status} ${res.statusText}`,
        );
      }
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        createWriteStream(file),
      );
      const lm = res.headers.get('last-modified');
      return lm ? new Date(lm) : undefined;
    },
  });
  await service.recover();
  const backend: BuildBackend = {
    extractContext: async (tar, signal, dockerfileName, namedSpecs) => {
      const dir = path.join(service.tmpRoot, `ctx-${randomBytes(6).toString('hex')}`);
      const namedRoot = `${dir}-named`;
      const remove = async () => {
        await fsp.rm(dir, { recursive: true, force: true });
        await fsp.rm(namedRoot, { recursive: true, force: true });
      };
      try {
        // Confined extraction with Docker's context rules; hostile entries fail with a 400
        // naming the entry (src/build/context/extract.ts).
        const digests = new Map<string, string>();
        await span('build.context-extract', () => extractContext(tar, dir, { signal, digests }));
        const named = await detachNamedContexts(dir, namedSpecs ?? new Map(), namedRoot);
        const df = await readContextDockerfile(dir, dockerfileName);
        await pruneBuildFiles(dir, df.name);
        // A Dockerfile that does not parse is refused before the stream starts (a 400, as
        // Docker's daemon answers), not as an error line inside a 200.
        parseDockerfile(df.content.toString('utf8'));
        return {
          dir,
          remove,
          named,
          digests,
          dockerfile: { name: df.name, content: df.content.toString('utf8') },
        };
      } catch (err) {
        await remove();
        throw err;
      }
    },
    build: (req, emit) => service.build(req, emit),
    prune: (opts) => service.prune(opts),
    usage: () => service.usage(),
  };
  return { service, backend };
}
