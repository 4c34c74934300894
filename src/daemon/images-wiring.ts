// The images API's backend: pulls and pushes through the registry client (distribution
// metadata, mirrors, the reloadable concurrency limits), search, and the local image
// operations, each publishing its event. Kept out of daemon.ts as build-wiring.ts is.
import path from 'node:path';
import type { ImagesBackend } from '../api/router/images/backend.ts';
import { NotFoundError } from '../errdefs/index.ts';
import type { EventBus } from '../events/index.ts';
import {
  deleteImage,
  type ImageService,
  type ImageUsers,
  imageHistory,
  importImage,
  loadImages,
  planSave,
  pruneImages,
  pullImage,
  pushImage,
  saveImages,
} from '../images/index.ts';
import type { DistributionMetadata } from '../metadata/index.ts';
import { type Digest, digestHex } from '../oci/digest.ts';
import { parsePlatform } from '../oci/image.ts';
import { familiarString, formatReference, parseReference, withDefaultTag } from '../oci/reference.ts';
import type { RegistryClient } from '../registry/index.ts';
import type { LayerSnapshots } from '../snapshots/index.ts';
import type { Reloadable } from './reload.ts';

export interface ImagesWiring {
  readonly images: ImageService;
  readonly layers: LayerSnapshots;
  readonly registries: RegistryClient;
  readonly distribution: DistributionMetadata;
  readonly events: EventBus;
  /** The settings in force (SIGHUP replaces them): read at each call. */
  readonly live: () => Reloadable;
  /** Containers using an image (they veto a delete or prune). */
  readonly users: ImageUsers;
}

export function imagesBackendFor(w: ImagesWiring): ImagesBackend {
  const { images, layers, registries, distribution, events, users } = w;
  return {
    pull: async (refText, o) => {
      const parsed = parseReference(refText);
      const platform = o.platform ? parsePlatform(o.platform) : undefined;
      const session = registries.repository(parsed, o.auth);
      // No tag and no digest: every tag (`docker pull --all-tags`).
      const refs =
        parsed.tag || parsed.digest
          ? [parsed]
          : (await session.tags(o.signal)).map((tag) => ({ ...parsed, tag }));
      let id: Digest | undefined;
      for (const ref of refs) {
        id = await pullImage(images, session, ref, {
          distribution,
          concurrency: w.live().maxConcurrentDownloads,
          signal: o.signal,
          onEvent: o.onEvent,
          ...(platform ? { platform } : {}),
        });
        events.publish('image', 'pull', formatReference(ref), { name: familiarString(ref) });
      }
      if (!id) throw new NotFoundError('NO_TAGS', `${refText} has no tags to pull`);
      return id;
    },
    search: (term, limit, signal) => {
      // `host:port/words` searches that registry; anything else Docker Hub, as docker does.
      const first = term.split('/')[0]!;
      const remote =
        term.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
      return registries.search(
        remote ? first : 'docker.io',
        remote ? term.slice(first.length + 1) : term,
        limit,
        signal,
      );
    },
    push: async (refText, o) => {
      const parsed = parseReference(refText);
      const repo = formatReference({ domain: parsed.domain, path: parsed.path });
      // No tag: every local tag of the repository (`docker push --all-tags`).
      const tags = parsed.tag
        ? [parsed.tag]
        : (await images.list()).flatMap((v) =>
            v.repoTags
              .map((t) => withDefaultTag(parseReference(t)))
              .filter((r) => formatReference({ domain: r.domain, path: r.path }) === repo)
              .map((r) => r.tag!),
          );
      if (tags.length === 0) {
        throw new NotFoundError(
          'IMAGE_NOT_FOUND',
          `An image does not exist locally with the tag: ${familiarString(parsed)}`,
        );
      }
      let last: unknown;
      for (const tag of [...new Set(tags)].sort()) {
        const ref = { ...parsed, tag };
        last = await pushImage(images, registries.pushTo(ref, o.auth), ref, {
          distribution,
          concurrency: w.live().maxConcurrentUploads,
          signal: o.signal,
          onEvent: o.onEvent,
        });
        events.publish('image', 'push', formatReference(ref), { name: familiarString(ref) });
      }
      return last;
    },
    list: () => images.list(),
    view: (ref) => images.view(images.resolve(ref)),
    importImage: async (src, opts) => {
      const id = await importImage(images, src, opts);
      events.publish('image', 'import', id, opts.reference ? { name: opts.reference } : {});
      return id;
    },
    tag: async (s, t) => {
      await images.tag(s, t);
      events.publish('image', 'tag', images.resolve(t), { name: t });
    },
    delete: (ref, opts) =>
      deleteImage(images, ref, {
        force: opts.force,
        prune: opts.prune,
        users,
      }),
    history: (ref) => imageHistory(images, images.resolve(ref)),
    prune: (filters) => pruneImages(images, filters, users),
    save: (refs) => saveImages(images, planSave(images, refs)),
    load: (src, opts) => loadImages(images, src, opts),
    graphDriver: async (view) => {
      const top = view.chain.at(-1);
      if (!top) return {};
      const dirs = view.chain.map((c) => layers.diffDir(digestHex(c))).reverse();
      return {
        ...(dirs.length > 1 ? { LowerDir: dirs.slice(1).join(':') } : {}),
        UpperDir: dirs[0]!,
        WorkDir: path.join(path.dirname(dirs[0]!), 'work'),
        MergedDir: path.join(path.dirname(dirs[0]!), 'merged'),
      };
    },
  };
}
