// /networks/*: list, inspect, create, remove, prune, connect, disconnect.
import { InvalidArgumentError } from '../../../errdefs/index.ts';
import { type EndpointSettings, endpointRequest } from '../../../containers/networking.ts';
import type { NetworkRecord } from '../../../network/index.ts';
import { parseFilters, readJsonBody, sendJson, sendNoContent } from '../../http.ts';
import { FILTERS, type Filters, labelsMatch, parseTimestamp } from '../../filters.ts';
import type { Route } from '../../server.ts';
import { apiHas, shapeFor } from '../../versions/index.ts';
import type { NetworksBackend } from './backend.ts';

function driverName(n: NetworkRecord): string {
  return n.driver;
}

export function networkView(
  n: NetworkRecord,
  backend: NetworksBackend,
  withContainers: boolean,
  version: string,
) {
  const containers: Record<string, unknown> = {};
  if (withContainers) {
    const bits = n.subnet?.split('/')[1];
    for (const ep of Object.values(n.endpoints)) {
      if (!ep.vethHost) continue; // Docker lists running containers only
      containers[ep.containerId] = {
        Name: backend.containerName(ep.containerId),
        EndpointID: ep.endpointId,
        MacAddress: ep.mac,
        IPv4Address: `${ep.ip}/${bits}`,
        IPv6Address: ep.ip6 ? `${ep.ip6}/${n.subnet6!.split('/')[1]}` : '',
      };
    }
  }
  return shapeFor(
    'network',
    {
      Name: n.name,
      Id: n.id,
      Created: n.created,
      Scope: 'local',
      Driver: driverName(n),
      // API 1.48: Berth's networks always have IPv4.
      EnableIPv4: true,
      EnableIPv6: n.enableIPv6 === true,
      IPAM: {
        Driver: 'default',
        // Docker shows the options as they were sent: `{}` from the docker CLI, null when absent.
        Options: n.ipamOptions ? { ...n.ipamOptions } : null,
        Config: n.subnet
          ? [
              {
                Subnet: n.subnet,
                Gateway: n.gateway,
                ...(n.ipRange ? { IPRange: n.ipRange } : {}),
                ...(n.auxAddresses ? { AuxiliaryAddresses: n.auxAddresses } : {}),
              },
              ...(n.subnet6
                ? [{ Subnet: n.subnet6, Gateway: n.gateway6, ...(n.ipRange6 ? { IPRange: n.ipRange6 } : {}) }]
                : []),
            ]
          : [],
      },
      Internal: n.internal,
      Attachable: n.attachable,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: n.options,
      Labels: n.labels,
    },
    version,
  );
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new InvalidArgumentError('INVALID_BODY', `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function strMap(v: unknown, what: string): Record<string, string> {
  const o = obj(v, what);
  for (const [k, x] of Object.entries(o))
    if (typeof x !== 'string')
      throw new InvalidArgumentError('INVALID_BODY', `${what}.${k} must be a string`);
  return o as Record<string, string>;
}

const BUILTIN = new Set(['bridge', 'host', 'none']);
const isTrue = (v: string) => v === '1' || v.toLowerCase() === 'true';

/** `GET /networks` filters (values checked by FILTERS.networkList). */
function matches(n: NetworkRecord, f: Filters): boolean {
  if (f.has('name') && !f.get('name')!.some((v) => n.name.includes(v))) return false;
  if (f.has('id') && !f.get('id')!.some((v) => n.id.startsWith(v))) return false;
  if (f.has('driver') && !f.get('driver')!.includes(driverName(n))) return false;
  if (f.has('type') && !f.get('type')!.includes(BUILTIN.has(n.name) ? 'builtin' : 'custom')) return false;
  if (f.has('scope') && !f.get('scope')!.includes('local')) return false;
  // Docker: dangling=true lists the custom networks no container uses.
  const dangling = f.get('dangling')?.[0];
  if (
    dangling !== undefined &&
    isTrue(dangling) !== (!BUILTIN.has(n.name) && Object.keys(n.endpoints).length === 0)
  )
    return false;
  return labelsMatch(n.labels, f);
}

export function networkRoutes(backend: NetworksBackend): Route[] {
  return [
    {
      method: 'GET',
      path: '/networks',
      handler: (ctx) => {
        const f = parseFilters(ctx.query, FILTERS.networkList);
        const list = backend.list().filter((n) => matches(n, f));
        sendJson(
          ctx.res,
          200,
          list.map((n) => networkView(n, backend, false, ctx.version)),
        );
      },
    },
    {
      method: 'GET',
      path: '/networks/:id',
      handler: (ctx) => {
        sendJson(ctx.res, 200, networkView(backend.find(ctx.params.id!), backend, true, ctx.version));
      },
    },
    {
      method: 'POST',
      path: '/networks/create',
      handler: async (ctx) => {
        const b = obj(await readJsonBody(ctx.req, 'networkCreate'), 'body');
        if (typeof b.Name !== 'string' || b.Name === '')
          throw new InvalidArgumentError('INVALID_NAME', 'network name is required: set "Name"');
        // API 1.48's EnableIPv4=false needs an experimental Docker; Berth has no IPv6-only networks.
        if (apiHas(ctx.version, 'enableIPv4') && b.EnableIPv4 === false)
          throw new InvalidArgumentError(
            'IPV4_REQUIRED',
            'IPv4 cannot be disabled: Berth networks always have IPv4 (leave EnableIPv4 unset or true)',
          );
        const ipam = obj(b.IPAM, 'IPAM');
        const cfg = ipam.Config ?? [];
        if (!Array.isArray(cfg)) throw new InvalidArgumentError('INVALID_BODY', 'IPAM.Config must be a list');
        const r = await backend.create({
          name: b.Name,
          ...(typeof b.Driver === 'string' ? { driver: b.Driver } : {}),
          internal: b.Internal === true,
          enableIPv6: b.EnableIPv6 === true,
          attachable: b.Attachable === true,
          labels: strMap(b.Labels, 'Labels'),
          options: strMap(b.Options, 'Options'),
          // Kept as sent: the docker CLI sends {} (shown {}), docker-py none (shown null).
          ...(ipam.Options === undefined || ipam.Options === null
            ? {}
            : { ipamOptions: strMap(ipam.Options, 'IPAM.Options') }),
          ipam: cfg.map((c, i) => {
            const o = obj(c, `IPAM.Config[${i}]`);
            return {
              ...(typeof o.Subnet === 'string' && o.Subnet ? { Subnet: o.Subnet } : {}),
              ...(typeof o.Gateway === 'string' && o.Gateway ? { Gateway: o.Gateway } : {}),
              ...(typeof o.IPRange === 'string' && o.IPRange ? { IPRange: o.IPRange } : {}),
              ...(o.AuxiliaryAddresses
                ? { AuxiliaryAddresses: strMap(o.AuxiliaryAddresses, 'AuxiliaryAddresses') }
                : {}),
            };
          }),
        });
        sendJson(ctx.res, 201, { Id: r.id, Warning: r.warning });
      },
    },
    {
      method: 'DELETE',
      path: '/networks/:id',
      handler: async (ctx) => {
        await backend.remove(ctx.params.id!);
        sendNoContent(ctx.res);
      },
    },
    {
      method: 'POST',
      path: '/networks/prune',
      handler: async (ctx) => {
        const f = parseFilters(ctx.query, FILTERS.networkPrune);
        const until = f.get('until')?.[0];
        const untilMs = until !== undefined ? parseTimestamp(until) : undefined;
        const names = await backend.prune(
          (n) => (untilMs === undefined || Date.parse(n.created) < untilMs) && labelsMatch(n.labels, f),
        );
        sendJson(ctx.res, 200, { NetworksDeleted: names });
      },
    },
    {
      method: 'POST',
      path: '/networks/:id/connect',
      handler: async (ctx) => {
        const b = obj(await readJsonBody(ctx.req, 'networkConnect'), 'body');
        if (typeof b.Container !== 'string' || b.Container === '')
          throw new InvalidArgumentError('INVALID_CONTAINER', 'set "Container" to the container to connect');
        const ep = obj(b.EndpointConfig, 'EndpointConfig');
        await backend.connect(ctx.params.id!, b.Container, endpointRequest(ep as EndpointSettings));
        sendNoContent(ctx.res, 200);
      },
    },
    {
      method: 'POST',
      path: '/networks/:id/disconnect',
      handler: async (ctx) => {
        const b = obj(await readJsonBody(ctx.req, 'networkDisconnect'), 'body');
        if (typeof b.Container !== 'string' || b.Container === '')
          throw new InvalidArgumentError(
            'INVALID_CONTAINER',
            'set "Container" to the container to disconnect',
          );
        await backend.disconnect(ctx.params.id!, b.Container, b.Force === true);
        sendNoContent(ctx.res, 200);
      },
    },
  ];
}
