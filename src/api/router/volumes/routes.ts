// /volumes/*: list, create, inspect, remove, prune — Docker's local-driver volumes.
import { InvalidArgumentError } from '../../../errdefs/index.ts';
import { ANONYMOUS_LABEL, type Volume } from '../../../volumes/index.ts';
import { boolParam, parseFilters, readJsonBody, sendJson, sendNoContent } from '../../http.ts';
import { FILTERS, labelsMatch } from '../../filters.ts';
import { apiHas } from '../../versions/index.ts';
import type { Route } from '../../server.ts';
import type { VolumesBackend } from './backend.ts';

export function volumeView(v: Volume, usage?: { size: number; refCount: number }) {
  return {
    CreatedAt: v.createdAt,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: Object.keys(v.options).length > 0 ? v.options : null,
    Scope: 'local',
    ...(usage ? { UsageData: { Size: usage.size, RefCount: usage.refCount } } : {}),
  };
}

function strMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new InvalidArgumentError('INVALID_BODY', `${what} must be a JSON object of strings`);
  for (const [k, x] of Object.entries(v))
    if (typeof x !== 'string')
      throw new InvalidArgumentError('INVALID_BODY', `${what}.${k} must be a string`);
  return v as Record<string, string>;
}

/** A boolean filter's value (FILTERS has checked it is one). */
function boolFilter(values: string[] | undefined): boolean | undefined {
  const v = values?.[0];
  return v === undefined ? undefined : v === '1' || v.toLowerCase() === 'true';
}

export function volumeRoutes(backend: VolumesBackend): Route[] {
  return [
    {
      method: 'GET',
      path: '/volumes',
      handler: (ctx) => {
        const f = parseFilters(ctx.query, FILTERS.volumeList);
        const dangling = boolFilter(f.get('dangling'));
        const list = backend.list().filter((v) => {
          if (dangling !== undefined && (backend.users(v.name).length === 0) !== dangling) return false;
          if (f.has('name') && !f.get('name')!.some((n) => v.name.includes(n))) return false;
          if (f.has('driver') && !f.get('driver')!.includes(v.driver)) return false;
          return labelsMatch(v.labels, f);
        });
        list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        sendJson(ctx.res, 200, { Volumes: list.map((v) => volumeView(v)), Warnings: [] });
      },
    },
    {
      method: 'POST',
      path: '/volumes/create',
      handler: async (ctx) => {
        const b = (await readJsonBody(ctx.req, 'volumeCreate')) ?? {};
        for (const k of ['Name', 'Driver'] as const)
          if (b[k] !== undefined && b[k] !== null && typeof b[k] !== 'string')
            throw new InvalidArgumentError('INVALID_BODY', `${k} must be a string`);
        const options = strMap(b.DriverOpts, 'DriverOpts');
        const labels = strMap(b.Labels, 'Labels');
        const v = await backend.create({
          ...(b.Name ? { name: b.Name as string } : {}),
          ...(b.Driver ? { driver: b.Driver as string } : {}),
          ...(options ? { options } : {}),
          ...(labels ? { labels } : {}),
        });
        sendJson(ctx.res, 201, volumeView(v));
      },
    },
    {
      method: 'POST',
      path: '/volumes/prune',
      handler: async (ctx) => {
        const f = parseFilters(ctx.query, FILTERS.volumePrune);
        // API 1.42: only anonymous volumes unless all=true; older clients always prune all.
        const all = apiHas(ctx.version, 'pruneAnonymousVolumesOnly')
          ? (boolFilter(f.get('all')) ?? false)
          : true;
        const r = await backend.prune(
          (v) => (all || Object.hasOwn(v.labels, ANONYMOUS_LABEL)) && labelsMatch(v.labels, f),
        );
        sendJson(ctx.res, 200, {
          VolumesDeleted: r.deleted.length > 0 ? r.deleted : null,
          SpaceReclaimed: r.reclaimed,
        });
      },
    },
    {
      method: 'GET',
      path: '/volumes/:name',
      handler: (ctx) => {
        sendJson(ctx.res, 200, volumeView(backend.get(ctx.params.name!)));
      },
    },
    {
      method: 'DELETE',
      path: '/volumes/:name',
      handler: async (ctx) => {
        await backend.remove(ctx.params.name!, boolParam(ctx.query, 'force'));
        sendNoContent(ctx.res);
      },
    },
  ];
}
