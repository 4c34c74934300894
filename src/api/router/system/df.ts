// GET /system/df (`docker system df`): images with how many containers use them, containers,
// volumes with their usage, and the build cache. Composed here from the other areas' backends
// so each keeps its own view code.
import type { BuildBackend } from '../build/backend.ts';
import type { ContainersBackend } from '../containers/backend.ts';
import { summaryView } from '../containers/views.ts';
import type { ImagesBackend } from '../images/backend.ts';
import { summary } from '../images/routes.ts';
import type { Route } from '../../server.ts';
import { sendJson } from '../../http.ts';
import { apiHas, shapeFor } from '../../versions/index.ts';
import type { VolumesBackend } from '../volumes/backend.ts';
import { volumeView } from '../volumes/routes.ts';

export interface DiskUsageSources {
  readonly images: ImagesBackend;
  readonly containers: ContainersBackend;
  readonly volumes: VolumesBackend;
  readonly build: BuildBackend;
  /** Bytes of all image layers on disk. */
  layersSize(): Promise<number>;
}

export function diskUsageRoutes(s: DiskUsageSources): Route[] {
  return [
    {
      method: 'GET',
      path: '/system/df',
      handler: async (ctx) => {
        // `type` is API 1.42's; older clients always get everything.
        const types = new Set(apiHas(ctx.version, 'dfType') ? ctx.query.getAll('type') : []);
        const want = (t: string) => types.size === 0 || types.has(t);
        const recs = s.containers.list();
        const images = want('image')
          ? (await s.images.list())
              .filter((v) => !v.record.intermediate)
              .map((v) => ({
                ...summary(v, ctx.version),
                Containers: recs.filter((r) => r.imageId === v.id).length,
              }))
          : undefined;
        const containers = want('container')
          ? await Promise.all(
              recs.map(async (r) => {
                const sz = await s.containers.sizes(r);
                return {
                  ...summaryView(r, s.containers.networks(r), ctx.version),
                  SizeRw: sz.rw,
                  SizeRootFs: sz.rootFs,
                };
              }),
            )
          : undefined;
        const volumes = want('volume')
          ? await Promise.all(
              s.volumes.list().map(async (v) =>
                volumeView(v, {
                  size: await s.volumes.size(v.name),
                  refCount: s.volumes.users(v.name).length,
                }),
              ),
            )
          : undefined;
        const cache = want('build-cache')
          ? (await s.build.usage()).map((c) => ({
              ID: c.id,
              Parent: '',
              Parents: [],
              Type: 'regular',
              Description: c.description,
              InUse: c.inUse,
              // A step image that is also a named image's last layer is shared with it.
              Shared: c.shared,
              Size: c.size,
              CreatedAt: c.created,
              LastUsedAt: c.lastUsed,
              UsageCount: c.usageCount,
            }))
          : undefined;
        const body = {
          LayersSize: await s.layersSize(),
          ...(images ? { Images: images } : {}),
          ...(containers ? { Containers: containers } : {}),
          ...(volumes ? { Volumes: volumes } : {}),
          ...(cache ? { BuildCache: cache } : {}),
          // API < 1.42: the build cache's total size (removed at 1.42).
          BuilderSize: (cache ?? []).reduce((n, c) => n + c.Size, 0),
        };
        sendJson(ctx.res, 200, shapeFor('systemDf', body, ctx.version));
      },
    },
  ];
}
