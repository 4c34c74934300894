// /images/*: list, inspect, import, tag, delete, history, prune, save (get) and load.
import { InvalidArgumentError, NotFoundError, NotImplementedError } from '../../../errdefs/index.ts';
import { compileGlob, type Glob } from '../../../base/patterns/index.ts';
import type { ImageView } from '../../../images/index.ts';
import { parseReference, familiarName, familiarString } from '../../../oci/reference.ts';
import {
  boolParam,
  drainRequest,
  type Filters,
  parseFilters,
  type RequestContext,
  requestBody,
  sendJson,
} from '../../http.ts';
import { FILTERS, labelsMatch, parseTimestamp } from '../../filters.ts';
import type { Handler, Route } from '../../server.ts';
import { JsonLinesWriter, progressBar } from '../../streams/json-lines.ts';
import { apiHas, shapeFor } from '../../versions/index.ts';
import type { ImagesBackend } from './backend.ts';
import { handlePull, handlePush } from './pull.ts';

/** A boolean filter value (FILTERS has checked it is one). */
const isTrue = (v: string) => v === '1' || v.toLowerCase() === 'true';

function created(view: ImageView): number {
  return Math.floor(Date.parse(view.config.created ?? view.record.added) / 1000);
}

/** One image of `GET /images/json`, every version's fields (versions/fields.ts picks). */
export function summary(view: ImageView, version: string) {
  // API < 1.43 names an image without any name `<none>:<none>` / `<none>@<none>`.
  const none = view.repoTags.length === 0 && view.repoDigests.length === 0 && apiHas(version, 'noneRepoTags');
  return {
    Id: view.id,
    ParentId: view.record.parent ?? '',
    RepoTags: none ? ['<none>:<none>'] : view.repoTags,
    RepoDigests: none ? ['<none>@<none>'] : view.repoDigests,
    Created: created(view),
    Size: view.size,
    SharedSize: -1,
    VirtualSize: view.size,
    Labels: view.config.config?.Labels ?? {},
    Containers: -1,
  };
}

/**
 * Docker's reference.FamiliarMatch: Go's path.Match against the familiar string (`name:tag`)
 * or the familiar name. The globs are compiled once per request by the linear-time engine
 * (base/patterns): a RegExp would backtrack on `*a*a*a*…b`. A malformed glob is a 400.
 */
function refMatches(t: string, patterns: readonly Glob[]): boolean {
  const ref = parseReference(t);
  const full = familiarString(ref);
  const name = familiarName(ref);
  return patterns.some((p) => p.test(full) || p.test(name));
}

function matchesReference(view: ImageView, patterns: readonly Glob[]): boolean {
  return [...view.repoTags, ...view.repoDigests].some((t) => refMatches(t, patterns));
}

/** As Docker: with a reference filter, an image shows only the names that matched. */
function onlyMatchingNames(view: ImageView, patterns: readonly Glob[] | undefined): ImageView {
  if (!patterns) return view;
  return {
    ...view,
    repoTags: view.repoTags.filter((t) => refMatches(t, patterns)),
    repoDigests: view.repoDigests.filter((t) => refMatches(t, patterns)),
  };
}

async function filterImages(
  backend: ImagesBackend,
  views: ImageView[],
  f: Filters,
  refs: readonly Glob[] | undefined,
): Promise<ImageView[]> {
  const dangling = f.get('dangling')?.[0];
  const before = f.get('before')?.[0];
  const since = f.get('since')?.[0];
  const beforeT = before ? created(await backend.view(before)) : undefined;
  const sinceT = since ? created(await backend.view(since)) : undefined;
  const until = f.get('until')?.[0];
  const untilT = until ? parseTimestamp(until)! / 1000 : undefined;
  return views.filter((v) => {
    const isDangling = v.repoTags.length === 0;
    if (dangling !== undefined && isTrue(dangling) !== isDangling) return false;
    const labels = v.config.config?.Labels ?? {};
    if (!labelsMatch(labels, f)) return false;
    if (beforeT !== undefined && !(created(v) < beforeT)) return false;
    if (sinceT !== undefined && !(created(v) > sinceT)) return false;
    if (untilT !== undefined && !(created(v) < untilT)) return false;
    if (refs && !matchesReference(v, refs)) return false;
    return true;
  });
}

/** Image inspect with every version's fields; versions/fields.ts drops what a version lacks. */
async function inspect(backend: ImagesBackend, view: ImageView, version: string) {
  const c = view.config;
  // A config without `created`: the zero time before API 1.44, no field from 1.44.
  const created = c.created ?? (apiHas(version, 'omitMissingCreated') ? undefined : '0001-01-01T00:00:00Z');
  return shapeFor(
    'imageInspect',
    {
      Id: view.id,
      RepoTags: view.repoTags,
      RepoDigests: view.repoDigests,
      Parent: view.record.parent ?? '',
      Comment: c.comment ?? '',
      ...(created !== undefined ? { Created: created } : {}),
      Container: '',
      ContainerConfig: containerConfig(c.container_config ?? {}),
      DockerVersion: c.docker_version ?? '',
      Author: c.author ?? '',
      Config: containerConfig(c.config ?? {}),
      Architecture: c.architecture,
      ...(c.variant ? { Variant: c.variant } : {}),
      Os: c.os,
      Size: view.size,
      VirtualSize: view.size,
      GraphDriver: { Name: 'overlay2', Data: await backend.graphDriver(view) },
      RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
      Metadata: { LastTagTime: view.record.lastTagTime ?? '0001-01-01T00:00:00Z' },
    },
    version,
  );
}

/**
 * docker-compose 1.x (User-Agent `docker-compose/1.…`) talks the server's newest API version
 * (docker-py's `auto`) but reads the image's `ContainerConfig`, gone from image inspect at API
 * 1.45, whenever it recreates a container (`KeyError: 'ContainerConfig'`, the same failure it
 * has on Docker 25+). Such a client gets the field back at any version; everyone else gets
 * Docker's shape for the version they speak.
 */
export function withLegacyComposeFields<T extends object>(
  body: T,
  view: ImageView,
  userAgent: string | undefined,
): T {
  if (!/^docker-compose\/1\./.test(userAgent ?? '') || Object.hasOwn(body, 'ContainerConfig')) return body;
  return { ...body, ContainerConfig: containerConfig(view.config.container_config ?? {}) };
}

/** Docker's Config object always carries these keys. */
function containerConfig(cfg: NonNullable<ImageView['config']['config']>) {
  return {
    Hostname: '',
    Domainname: '',
    User: cfg.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(cfg.ExposedPorts ? { ExposedPorts: cfg.ExposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: cfg.Env ?? null,
    Cmd: cfg.Cmd ?? null,
    ...(cfg.Healthcheck ? { Healthcheck: cfg.Healthcheck } : {}),
    ...(cfg.ArgsEscaped ? { ArgsEscaped: true } : {}),
    Image: '',
    Volumes: cfg.Volumes ?? null,
    WorkingDir: cfg.WorkingDir ?? '',
    Entrypoint: cfg.Entrypoint ?? null,
    OnBuild: cfg.OnBuild ?? null,
    Labels: cfg.Labels ?? null,
    ...(cfg.StopSignal ? { StopSignal: cfg.StopSignal } : {}),
    ...(cfg.Shell ? { Shell: cfg.Shell } : {}),
  };
}

/** `/images/{name}/json` where name may hold slashes: the route is a wildcard and the verb the last segment. */
function splitNameAction(wild: string): { name: string; action: string } {
  const i = wild.lastIndexOf('/');
  return i === -1 ? { name: wild, action: '' } : { name: wild.slice(0, i), action: wild.slice(i + 1) };
}

export function imageRoutes(backend: ImagesBackend): Route[] {
  const getWild: Handler = async (ctx) => {
    const { name, action } = splitNameAction(ctx.params['*'] ?? '');
    switch (action) {
      case 'json': {
        const view = await backend.view(name);
        const body = await inspect(backend, view, ctx.version);
        return sendJson(ctx.res, 200, withLegacyComposeFields(body, view, ctx.req.headers['user-agent']));
      }
      case 'history': {
        const rows = await backend.history(name);
        return sendJson(
          ctx.res,
          200,
          rows.map((r) => ({
            Id: r.id,
            Created: r.created,
            CreatedBy: r.createdBy,
            Tags: r.tags.length > 0 ? r.tags : null,
            Size: r.size,
            Comment: r.comment,
          })),
        );
      }
      case 'get':
        return sendArchive(ctx, backend, [name]);
      default:
        throw new NotFoundError('ROUTE_NOT_FOUND', `page not found: GET /images/${ctx.params['*']}`);
    }
  };

  const postWild: Handler = async (ctx) => {
    const { name, action } = splitNameAction(ctx.params['*'] ?? '');
    switch (action) {
      case 'tag': {
        const repo = ctx.query.get('repo') ?? '';
        const tag = ctx.query.get('tag') ?? '';
        await backend.tag(name, tag ? `${repo}:${tag}` : repo);
        ctx.res.writeHead(201);
        ctx.res.end();
        return;
      }
      case 'push':
        return handlePush(ctx, backend, name);
      default:
        throw new NotFoundError('ROUTE_NOT_FOUND', `page not found: POST /images/${ctx.params['*']}`);
    }
  };

  return [
    {
      method: 'GET',
      path: '/images/json',
      handler: async (ctx) => {
        const filters = parseFilters(ctx.query, FILTERS.imageList);
        // Legacy `filter=name` parameter: API < 1.41 only (later versions ignore it, as Docker).
        const legacy = apiHas(ctx.version, 'legacyImageFilter') ? ctx.query.get('filter') : null;
        if (legacy) filters.set('reference', [legacy]);
        let views = await backend.list();
        const refs = filters.get('reference')?.map((p) => compileGlob(p));
        views = (await filterImages(backend, views, filters, refs)).map((v) => onlyMatchingNames(v, refs));
        if (!boolParam(ctx.query, 'all')) {
          const parents = new Set(views.map((v) => v.record.parent).filter(Boolean));
          views = views.filter(
            (v) => v.repoTags.length > 0 || (!parents.has(v.id) && !v.record.intermediate),
          );
        }
        views.sort((a, b) => created(b) - created(a) || (a.id < b.id ? -1 : 1));
        sendJson(
          ctx.res,
          200,
          views.map((v) => shapeFor('imageSummary', summary(v, ctx.version), ctx.version)),
        );
      },
    },
    {
      method: 'POST',
      path: '/images/create',
      handler: async (ctx) => {
        const fromSrc = ctx.query.get('fromSrc');
        if (fromSrc === null) return handlePull(ctx, backend);
        if (fromSrc !== '-') {
          throw new NotImplementedError(
            'IMPORT_URL',
            `importing from a URL (${fromSrc}) is not supported; send the tarball in the request body (fromSrc=-)`,
          );
        }
        const repo = ctx.query.get('repo') ?? '';
        const tag = ctx.query.get('tag') ?? '';
        const reference = repo ? (tag ? `${repo}:${tag}` : repo) : '';
        const platform = ctx.query.get('platform');
        const [os, architecture, variant] = (platform ?? '').split('/');
        const id = await backend.importImage(requestBody(ctx.req), {
          ...(reference ? { reference } : {}),
          changes: ctx.query.getAll('changes'),
          message: ctx.query.get('message') ?? '',
          sourceName: '-',
          signal: ctx.signal,
          ...(platform
            ? {
                platform: {
                  ...(os ? { os } : {}),
                  ...(architecture ? { architecture } : {}),
                  ...(variant ? { variant } : {}),
                },
              }
            : {}),
        });
        const out = new JsonLinesWriter(ctx.res);
        out.write({ status: id });
        out.end();
      },
    },
    {
      method: 'POST',
      path: '/images/load',
      handler: async (ctx) => {
        const quiet = boolParam(ctx.query, 'quiet');
        const out = new JsonLinesWriter(ctx.res);
        try {
          await backend.load(requestBody(ctx.req), {
            signal: ctx.signal,
            onEvent: (e) => {
              switch (e.kind) {
                case 'layer-progress':
                  if (!quiet) {
                    out.write({
                      status: 'Loading layer',
                      progressDetail: { current: e.current, total: e.total },
                      progress: progressBar(e.current, e.total),
                      id: e.id,
                    });
                  }
                  break;
                case 'layer-done':
                  break;
                case 'loaded':
                  out.write({ stream: `Loaded image: ${e.name}\n` });
                  break;
                case 'loaded-id':
                  out.write({ stream: `Loaded image ID: ${e.id}\n` });
                  break;
              }
            },
          });
        } catch (err) {
          // Docker answers 200 and puts a load's failure in the stream even before any progress
          // (a body that is no archive at all): docker-py raises ImageLoadError only from there.
          await drainRequest(ctx.req);
          out.error(err);
        }
        out.end();
      },
    },
    {
      method: 'GET',
      path: '/images/get',
      handler: (ctx) => sendArchive(ctx, backend, ctx.query.getAll('names')),
    },
    {
      method: 'POST',
      path: '/images/prune',
      handler: async (ctx) => {
        const f = parseFilters(ctx.query, FILTERS.imagePrune);
        const dangling = f.get('dangling')?.[0];
        const until = f.get('until')?.[0];
        const result = await backend.prune({
          dangling: dangling === undefined ? true : isTrue(dangling),
          ...(until ? { until: parseTimestamp(until)! } : {}),
          ...(f.has('label') ? { label: f.get('label')! } : {}),
          ...(f.has('label!') ? { labelNot: f.get('label!')! } : {}),
        });
        sendJson(ctx.res, 200, {
          ImagesDeleted: result.deleted.length > 0 ? result.deleted.map(deleteRecord) : null,
          SpaceReclaimed: result.spaceReclaimed,
        });
      },
    },
    {
      method: 'GET',
      path: '/images/search',
      handler: async (ctx) => {
        const term = ctx.query.get('term') ?? '';
        if (!term)
          throw new InvalidArgumentError('MISSING_TERM', 'term is required: give the text to search for');
        const limit = Number(ctx.query.get('limit') ?? 25);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
          throw new InvalidArgumentError(
            'INVALID_LIMIT',
            `invalid limit ${ctx.query.get('limit')}: use 1 to 100`,
          );
        }
        const filters = parseFilters(ctx.query, FILTERS.imageSearch);
        let results = await backend.search(term, limit, ctx.signal);
        const stars = Number(filters.get('stars')?.[0] ?? 0);
        const official = filters.get('is-official')?.[0];
        const automated = filters.get('is-automated')?.[0];
        results = results.filter(
          (r) =>
            r.star_count >= stars &&
            (official === undefined || r.is_official === isTrue(official)) &&
            (automated === undefined || r.is_automated === isTrue(automated)),
        );
        sendJson(ctx.res, 200, results);
      },
    },
    { method: 'GET', path: '/images/*', handler: getWild },
    { method: 'POST', path: '/images/*', handler: postWild },
    {
      method: 'DELETE',
      path: '/images/*',
      handler: async (ctx) => {
        const records = await backend.delete(ctx.params['*'] ?? '', {
          force: boolParam(ctx.query, 'force'),
          prune: !boolParam(ctx.query, 'noprune'),
        });
        sendJson(ctx.res, 200, records.map(deleteRecord));
      },
    },
  ];
}

function deleteRecord(r: { untagged: string } | { deleted: string }) {
  return 'untagged' in r ? { Untagged: r.untagged } : { Deleted: r.deleted };
}

async function sendArchive(ctx: RequestContext, backend: ImagesBackend, names: string[]): Promise<void> {
  const stream = backend.save(names);
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  stream.on('error', (err) => {
    ctx.res.destroy(err);
  });
  ctx.res.on('close', () => stream.destroy());
  stream.pipe(ctx.res);
}
