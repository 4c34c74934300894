// Issue 14, "how it is checked": a bounded property-based fuzz of the endpoints that take user
// input. Valid bodies mutated at known paths (wrong types, huge numbers, deep nesting), garbage
// and truncated JSON, random query strings and random Dockerfiles go to berthd as raw HTTP. Every
// answer must be a 2xx, or a 4xx with a JSON `message`; never a 5xx, never a hang. Afterwards the
// real docker CLI still lists containers and images and inspects every container.
//
// Safety: nothing here starts a container. Network bodies always get this daemon's own test
// subnet and no driver options (no bridge on a host route or under another name), container
// bodies never bind host paths, builds never name an image that would be pulled.
// Replay a failure with BERTH_FUZZ_SEED=<seed printed in the failure>; search deeper with
// BERTH_FUZZ_SCALE=<n> (n times the runs).
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { pack } from 'tar-stream';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 20261207);
/** More runs for a deeper local search (BERTH_FUZZ_SCALE=10); the suite runs ~150 requests. */
const SCALE = Math.max(1, Number(process.env.BERTH_FUZZ_SCALE ?? 1));
const REQUEST_TIMEOUT_MS = 8_000;

interface Answer {
  status: number;
  body: string;
}

/** One raw request on the daemon's socket; a request that takes longer than the bound fails. */
function send(
  method: string,
  path: string,
  body?: Buffer | string,
  type = 'application/json',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: daemon.d.socket,
        method,
        path,
        headers:
          body === undefined ? {} : { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms: ${method} ${path}`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Answers per endpoint and status, shown at the end (a fuzz that only ever hits 400 tests little). */
const tally = new Map<string, number>();

/** The property every answer must have. */
function wellFormed(what: string, a: Answer): void {
  const key = `${what} ${a.status}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  assert.ok(a.status >= 200 && a.status < 500, `${what}: HTTP ${a.status} ${a.body.slice(0, 300)}`);
  if (a.status >= 400) {
    const parsed = JSON.parse(a.body) as { message?: unknown };
    assert.equal(typeof parsed.message, 'string', `${what}: no JSON message in ${a.body.slice(0, 300)}`);
  }
}

type Path = readonly (string | number)[];

function setAt(obj: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const base = (typeof obj === 'object' && obj !== null ? obj : typeof head === 'number' ? [] : {}) as Record<
    string | number,
    unknown
  >;
  base[head!] = setAt(base[head!], rest, value);
  return base;
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
}

/** Values a mutation writes: any JSON, the numbers Go cannot hold, long strings, deep nesting. */
const hostileValue = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      1e26,
      2 ** 63,
      -(2 ** 63) - 4096,
      2 ** 64,
      1.5,
      -1,
      0,
      65536,
      2 ** 31,
      '',
      '-1',
      '1g',
      '/',
      '../..',
      'a\nb',
      null,
      true,
      [],
      {},
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 120 }).map(nested) },
);

/** A valid body mutated at 1-3 of the given paths (or a new top-level key). */
function mutated(base: () => Record<string, unknown>, paths: Path[]) {
  const where = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...paths) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((k): Path => [k]) },
  );
  return fc
    .array(fc.tuple(where, hostileValue), { minLength: 1, maxLength: 3 })
    .map((ops) => JSON.stringify(ops.reduce<unknown>((b, [p, v]) => setAt(b, p, v), base())));
}

/** Bodies that are not JSON, are cut short, or nest far deeper than any real request. */
const garbage = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => {
    const s = JSON.stringify(v) ?? '';
    return s.slice(0, Math.max(0, s.length - 1));
  }),
  fc.integer({ min: 100, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 100, max: 5000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.constant('{"Image":"busybox","HostConfig":{"Memory":99999999999999999999999999}}'),
  fc.constant('{"Image":"busybox","HostConfig":{"Memory":9223372036854775808}}'),
);

function body(base: () => Record<string, unknown>, paths: Path[]) {
  return fc.oneof(
    { weight: 5, arbitrary: mutated(base, paths) },
    { weight: 2, arbitrary: garbage },
    // Some valid bodies, so that records are made and the CLI must read them back at the end.
    { weight: 1, arbitrary: fc.constant(null).map(() => JSON.stringify(base())) },
  );
}

/** A random query string over the parameters an endpoint knows (and some it does not). */
function query(keys: string[]) {
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('1', '0', 'true', '-1', '99999999999999999999'),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
    fc
      .dictionary(
        fc.constantFrom('name', 'id', 'label', 'status', 'dangling', 'reference', 'before', 'since', 'bogus'),
        fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
        { maxKeys: 3 },
      )
      .map((o) => JSON.stringify(o)),
  );
  return fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 6 })), value), { maxLength: 4 })
    .map((kv) => new URLSearchParams(kv).toString());
}

/** A network a 201 made, removed at once: the next run may want the same test subnet. */
async function removeNetwork(a: Answer): Promise<void> {
  if (a.status !== 201) return;
  const id = (JSON.parse(a.body) as { Id?: string }).Id;
  if (!id) return;
  const d = await send('DELETE', `/networks/${encodeURIComponent(id)}`);
  assert.ok(d.status < 300 || d.status === 404, `removing network ${id}: ${d.status} ${d.body}`);
}

/** Keeps a mutated network body on this daemon's own test subnet, with no driver options. */
function safeNetwork(raw: string): string {
  let b: unknown;
  try {
    b = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return raw;
  const o = b as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const l = k.toLowerCase();
    // Wrong types stay (they must be refused); values that could configure a real bridge do not.
    if (l === 'options' && typeof o[k] === 'object' && o[k] !== null && !Array.isArray(o[k])) delete o[k];
    if (l === 'ipam') o[k] = { Config: [{ Subnet: `10.198.${daemon.d.netByte}.0/24` }] };
    if (l === 'driver' && typeof o[k] === 'string') o[k] = 'bridge';
  }
  if (!Object.keys(o).some((k) => k.toLowerCase() === 'ipam'))
    o.IPAM = { Config: [{ Subnet: `10.198.${daemon.d.netByte}.0/24` }] };
  try {
    return JSON.stringify(o);
  } catch {
    return '{"Name":"fz-deep","Labels":{"a":1}}'; // too deep to re-serialise here: a plain type error
  }
}

/** Drops host paths from a mutated container body (a bind source may be created on the host). */
function safeContainer(raw: string): string {
  let b: unknown;
  try {
    b = JSON.parse(raw);
  } catch {
    return raw;
  }
  const hc = (b as { HostConfig?: unknown } | null)?.HostConfig;
  // Untouched bodies go out as generated (re-serialising a very deep one would overflow here).
  if (typeof hc !== 'object' || hc === null || Array.isArray(hc)) return raw;
  for (const k of Object.keys(hc)) {
    if (
      ['binds', 'mounts', 'volumesfrom', 'devices'].includes(k.toLowerCase()) &&
      Array.isArray((hc as Record<string, unknown>)[k])
    )
      delete (hc as Record<string, unknown>)[k];
  }
  return JSON.stringify(b) ?? raw;
}

const CONTAINER_PATHS: Path[] = [
  ['Image'],
  ['Cmd'],
  ['Cmd', 0],
  ['Entrypoint'],
  ['Env'],
  ['Env', 0],
  ['Labels'],
  ['Labels', 'a'],
  ['WorkingDir'],
  ['Hostname'],
  ['User'],
  ['StopTimeout'],
  ['StopSignal'],
  ['ExposedPorts'],
  ['ExposedPorts', '80/tcp'],
  ['Healthcheck', 'Interval'],
  ['Healthcheck', 'Test'],
  ['Healthcheck', 'Retries'],
  ['Volumes'],
  ['HostConfig'],
  ['HostConfig', 'Memory'],
  ['HostConfig', 'MemorySwap'],
  ['HostConfig', 'CpuShares'],
  ['HostConfig', 'NanoCpus'],
  ['HostConfig', 'BlkioWeight'],
  ['HostConfig', 'OomScoreAdj'],
  ['HostConfig', 'PortBindings'],
  ['HostConfig', 'PortBindings', '80/tcp', 0, 'HostPort'],
  ['HostConfig', 'RestartPolicy', 'Name'],
  ['HostConfig', 'RestartPolicy', 'MaximumRetryCount'],
  ['HostConfig', 'LogConfig', 'Config', 'max-size'],
  ['HostConfig', 'Dns'],
  ['HostConfig', 'ExtraHosts', 0],
  ['HostConfig', 'Tmpfs'],
  ['HostConfig', 'Ulimits', 0, 'Soft'],
  ['HostConfig', 'ConsoleSize'],
  ['HostConfig', 'NetworkMode'],
  ['NetworkingConfig', 'EndpointsConfig', 'bridge', 'Aliases'],
  ['NetworkingConfig', 'EndpointsConfig', 'bridge', 'IPAMConfig', 'IPv4Address'],
];

const containerBase = () => ({
  Image: 'busybox',
  Cmd: ['true'],
  Labels: { a: 'b' },
  ExposedPorts: { '80/tcp': {} },
  HostConfig: {
    Memory: 64 << 20,
    PortBindings: { '80/tcp': [{ HostPort: '' }] },
    RestartPolicy: { Name: 'no' },
    LogConfig: { Type: 'json-file', Config: {} },
  },
});

/** A tiny build context: a Dockerfile of safe random instructions (no RUN, no pull) and one file. */
const dockerfile = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'FROM busybox',
        'FROM scratch',
        'FROM busybox AS one',
        'COPY a /a',
        'ADD a /b',
        'COPY . /ctx',
      ),
      fc
        .tuple(
          fc.constantFrom(
            'LABEL',
            'ENV',
            'ARG',
            'WORKDIR',
            'EXPOSE',
            'USER',
            'CMD',
            'ENTRYPOINT',
            'VOLUME',
            'STOPSIGNAL',
            'SHELL',
            'HEALTHCHECK',
            'ONBUILD',
            'MAINTAINER',
          ),
          fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ' ')),
        )
        .map(([i, a]) => `${i} ${a}`),
      // Garbage that can never become an instruction naming another image.
      fc.string({ maxLength: 40 }).map((s) => `x${s.replace(/[\r\n]/g, ' ')}`),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((lines) => lines.join('\n'));

async function contextTar(text: string): Promise<Buffer> {
  const p = pack();
  p.entry({ name: 'Dockerfile' }, text);
  p.entry({ name: 'a' }, 'a\n');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const BUILD_KEYS = [
  't',
  'q',
  'nocache',
  'rm',
  'forcerm',
  'labels',
  'buildargs',
  'dockerfile',
  'target',
  'ulimits',
  'memory',
  'cpushares',
  'shmsize',
  'extrahosts',
  'cachefrom',
];

const params = (n: number) => ({ seed: SEED, numRuns: n * SCALE, endOnFailure: true });

describe('bounded fuzz of the user-facing endpoints', () => {
  test('POST /containers/create', async () => {
    await fc.assert(
      fc.asyncProperty(body(containerBase, CONTAINER_PATHS), query(['name']), async (b, q) => {
        const a = await send('POST', `/containers/create?${q}`, safeContainer(b));
        wellFormed('containers/create', a);
        // Kept: the CLI must still list and inspect every container a fuzzed body made.
      }),
      params(45),
    );
  });

  test('POST /networks/create and /volumes/create', async () => {
    const netPaths: Path[] = [
      ['Name'],
      ['Labels'],
      ['Labels', 'a'],
      ['Internal'],
      ['Attachable'],
      ['EnableIPv6'],
      ['IPAM'],
      ['CheckDuplicate'],
      ['Driver'],
    ];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        body(() => ({ Name: `fz-net-${n++}`, Labels: { a: 'b' } }), netPaths),
        async (b) => {
          const a = await send('POST', '/networks/create', safeNetwork(b));
          wellFormed('networks/create', a);
          await removeNetwork(a);
        },
      ),
      params(20),
    );
    const volPaths: Path[] = [['Name'], ['Driver'], ['Labels'], ['Labels', 'a'], ['DriverOpts']];
    await fc.assert(
      fc.asyncProperty(
        body(() => ({ Name: `fz-vol-${n++}`, Labels: { a: 'b' } }), volPaths),
        async (b) => {
          let raw = b;
          try {
            const o = JSON.parse(b) as Record<string, unknown>;
            // Driver options may name a real mount source: only their wrong types are sent.
            if (
              o &&
              typeof o.DriverOpts === 'object' &&
              o.DriverOpts !== null &&
              !Array.isArray(o.DriverOpts)
            )
              delete o.DriverOpts;
            raw = JSON.stringify(o);
          } catch {}
          const a = await send('POST', '/volumes/create', raw);
          wellFormed('volumes/create', a);
          // Kept, like containers: `docker volume ls` must read them all at the end.
        },
      ),
      params(20),
    );
  });

  test('GET /containers/json and /images/json with random query strings', async () => {
    await fc.assert(
      fc.asyncProperty(query(['all', 'filters', 'limit', 'size', 'since', 'before']), async (q) => {
        wellFormed('containers/json', await send('GET', `/containers/json?${q}`));
      }),
      params(20),
    );
    await fc.assert(
      fc.asyncProperty(query(['all', 'filters', 'digests', 'shared-size']), async (q) => {
        wellFormed('images/json', await send('GET', `/images/json?${q}`));
      }),
      params(15),
    );
  });

  test('POST /build with random Dockerfiles and query parameters', async () => {
    await fc.assert(
      fc.asyncProperty(dockerfile, query(BUILD_KEYS), async (text, q) => {
        const a = await send('POST', `/build?${q}`, await contextTar(text), 'application/x-tar');
        wellFormed('build', a);
        // A 200 is a JSON-lines progress stream (errors in-band): every line must parse.
        if (a.status === 200)
          for (const line of a.body.split('\n').filter((l) => l.trim() !== '')) JSON.parse(line);
      }),
      params(25),
    );
  });

  test('afterwards the docker CLI lists and inspects everything', async (t) => {
    t.diagnostic(`seed ${SEED}: ${[...tally].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    assert.ok((tally.get('containers/create 201') ?? 0) > 0, 'some fuzzed creates must succeed');
    ok(await daemon.d.docker(['images']));
    const ids = ok(await daemon.d.docker(['ps', '-aq']))
      .trim()
      .split('\n')
      .filter(Boolean);
    if (ids.length > 0) ok(await daemon.d.docker(['inspect', ...ids]));
    ok(await daemon.d.docker(['network', 'ls']));
    ok(await daemon.d.docker(['volume', 'ls']));
    const vols = ok(await daemon.d.docker(['volume', 'ls', '-q']))
      .trim()
      .split('\n')
      .filter(Boolean);
    if (vols.length > 0) ok(await daemon.d.docker(['volume', 'inspect', ...vols]));
    for (const v of vols) await send('DELETE', `/volumes/${encodeURIComponent(v)}?force=1`);
    const t0 = Date.now();
    await send('GET', '/_ping');
    assert.ok(Date.now() - t0 < 1000, 'the daemon answers /_ping within a second');
  });
});
