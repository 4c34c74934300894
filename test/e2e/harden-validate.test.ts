// Issue 14 §3: nothing a Go client cannot read back is stored. Bodies of the wrong types are a 400
// naming the field and its type (before: `"Labels":{"a":1}` was stored and `docker ps -a` failed
// for every container), and what Docker refuses at create is refused with Docker's words. After
// each refusal the real docker CLI still lists and inspects every container.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { pack } from 'tar-stream';
import { useBusyboxDaemon } from '../helpers/e2e.ts';
import { ok } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const JSON_HEADERS = { 'Content-Type': 'application/json' };

async function post(path: string, body: string | object) {
  const r = await daemon.d.request(
    'POST',
    path,
    typeof body === 'string' ? body : JSON.stringify(body),
    JSON_HEADERS,
  );
  const text = r.body.toString('utf8');
  return {
    status: r.status,
    text,
    message: r.status >= 400 ? (JSON.parse(text) as { message: string }).message : '',
  };
}

/** The container ids `docker ps -a` lists (and fails the test when it cannot list them). */
async function listed(): Promise<string> {
  return ok(await daemon.d.docker(['ps', '-aq', '--no-trunc']));
}

let existing = '';

/** One container made before the hostile requests, which must stay listable and inspectable. */
async function ensureExisting(): Promise<string> {
  if (!existing)
    existing = ok(await daemon.d.docker(['create', '--label', 'keep=1', 'busybox', 'sleep', '30'])).trim();
  return existing;
}

/** A refused create: 400 whose message matches, nothing new listed, the old container still inspects. */
async function refused(body: object | string, message: RegExp) {
  await ensureExisting();
  const beforeList = await listed();
  const r = await post('/containers/create', body);
  assert.equal(r.status, 400, r.text);
  assert.match(r.message, message);
  assert.equal(await listed(), beforeList);
  ok(await daemon.d.docker(['inspect', existing]));
}

describe('bodies of the wrong types', () => {
  test('Labels {"a":1} is a 400 naming Labels.a, and docker ps -a still works', async () => {
    await refused({ Image: 'busybox', Labels: { a: 1 } }, /Labels\.a of type string/);
    assert.match(ok(await daemon.d.docker(['ps', '-a', '--format', '{{.ID}} {{.Labels}}'])), /keep=1/);
  });

  test('Memory beyond int64 is a 400; existing containers still inspect and start', async () => {
    for (const lit of ['99999999999999999999999999', '9223372036854775808', '1.5', '"1g"']) {
      await refused(`{"Image":"busybox","HostConfig":{"Memory":${lit}}}`, /HostConfig\.Memory of type int64/);
    }
    // Update takes the same types: a stored huge limit would break inspect and start the same way.
    const u = await post(`/containers/${existing}/update`, '{"Memory":9223372036854775808}');
    assert.equal(u.status, 400, u.text);
    assert.match(u.message, /Memory of type int64/);
    ok(await daemon.d.docker(['start', existing]));
    ok(await daemon.d.docker(['inspect', existing]));
    ok(await daemon.d.docker(['kill', existing]));
  });

  test('field names match case-insensitively, as in Go: a wrong type under another case is refused', async () => {
    await refused('{"Image":"busybox","hostconfig":{"memory":"x"}}', /HostConfig\.Memory of type int64/);
    // ...and a right one takes effect under the spec's spelling.
    const r = await post('/containers/create', '{"image":"busybox","labels":{"case":"folded"}}');
    assert.equal(r.status, 201, r.text);
    const id = (JSON.parse(r.text) as { Id: string }).Id;
    assert.equal(
      ok(await daemon.d.docker(['inspect', '-f', '{{.Config.Labels.case}}', id])).trim(),
      'folded',
    );
    ok(await daemon.d.docker(['rm', id]));
  });

  test('null keeps the zero value and a string Cmd is a one-word list (Go leniency)', async () => {
    const r = await post('/containers/create', {
      Image: 'busybox',
      Cmd: 'true',
      Env: null,
      Labels: { z: null },
      HostConfig: { Memory: null, Binds: null },
    });
    assert.equal(r.status, 201, r.text);
    const id = (JSON.parse(r.text) as { Id: string }).Id;
    assert.equal(
      ok(await daemon.d.docker(['inspect', '-f', '{{json .Config.Cmd}} {{json .Config.Labels}}', id])).trim(),
      '["true"] {"z":""}',
    );
    ok(await daemon.d.docker(['rm', id]));
  });

  test('StopTimeout, Env items, ports and NetworkingConfig are typed too', async () => {
    await refused({ Image: 'busybox', StopTimeout: 'x' }, /StopTimeout of type int64/);
    await refused({ Image: 'busybox', Env: ['A=1', 2] }, /Env\[1\] of type string/);
    await refused(
      { Image: 'busybox', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 80 }] } } },
      /HostPort of type string/,
    );
    await refused(
      { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: 'a' } } } },
      /Aliases of type \[\]string/,
    );
    await refused('[1,2]', /cannot unmarshal array/);
  });

  test('networks, volumes, exec and build labels refuse wrong types and store nothing', async () => {
    const n = await post('/networks/create', { Name: 'hv-net', Labels: { a: 1 } });
    assert.equal(n.status, 400, n.text);
    assert.match(n.message, /Labels\.a of type string/);
    assert.doesNotMatch(ok(await daemon.d.docker(['network', 'ls', '--format', '{{.Name}}'])), /hv-net/);
    const v = await post('/volumes/create', { Name: 'hv-vol', Labels: { a: false } });
    assert.equal(v.status, 400, v.text);
    assert.doesNotMatch(ok(await daemon.d.docker(['volume', 'ls', '--format', '{{.Name}}'])), /hv-vol/);
    const e = await post(`/containers/${await ensureExisting()}/exec`, { Cmd: ['true'], Env: { A: '1' } });
    assert.equal(e.status, 400, e.text);
    assert.match(e.message, /Env of type \[\]string/);
    const tar = Buffer.alloc(1024); // an empty tar: the query is refused before the context is read
    const b = await daemon.d.request('POST', `/build?labels=${encodeURIComponent('{"a":1}')}`, tar, {
      'Content-Type': 'application/x-tar',
    });
    assert.equal(b.status, 400, b.body.toString());
    assert.match(b.body.toString(), /labels|Labels/);
    ok(await daemon.d.docker(['images']));
  });
});

describe('POST /commit writes only what a later run can read', () => {
  test('bad ExposedPorts, a relative WorkingDir or a wrong-typed Labels in the body are a 400 and make no image', async () => {
    const id = await ensureExisting();
    const imagesBefore = ok(await daemon.d.docker(['images', '-q']));
    for (const [body, re] of [
      [{ ExposedPorts: { 'abc/tcp': {} } }, /invalid port specification: "abc\/tcp"/],
      [{ WorkingDir: 'rel' }, /the working directory 'rel' is invalid/],
      [{ Labels: { a: 1 } }, /Labels\.a of type string/],
      [
        { Healthcheck: { Test: ['CMD', 'true'], Interval: 5 } },
        /Interval in Healthcheck cannot be less than 1ms/,
      ],
    ] as const) {
      const r = await post(`/commit?container=${id}&repo=hv-commit`, body);
      assert.equal(r.status, 400, r.text);
      assert.match(r.message, re);
    }
    assert.equal(ok(await daemon.d.docker(['images', '-q'])), imagesBefore);
  });
});

describe('names longer than the filesystem takes', () => {
  test('are a 400, not a 500 (volume name, build dockerfile=)', async () => {
    const long = 'a'.repeat(300);
    const v = await post('/volumes/create', { Name: long });
    assert.equal(v.status, 400, v.text);
    assert.match(v.message, /too long/);
    assert.doesNotMatch(v.message, /berth-test/); // no daemon paths in the answer
    assert.doesNotMatch(ok(await daemon.d.docker(['volume', 'ls', '-q'])), /aaaa/);
    const p = pack();
    p.entry({ name: 'Dockerfile' }, 'FROM busybox\n');
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(c as Buffer);
    const b = await daemon.d.request('POST', `/build?dockerfile=${long}`, Buffer.concat(chunks), {
      'Content-Type': 'application/x-tar',
    });
    assert.equal(b.status, 400, b.body.toString());
  });
});

describe('POST /auth with wrong types', () => {
  let server: net.Server;
  let connections = 0;
  after(() => server?.close());

  test('is a 400 and never reaches the registry', async () => {
    server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    for (const body of [
      { username: 1, password: 'x', serveraddress: `127.0.0.1:${port}` },
      { username: 'u', password: ['x'], serveraddress: `127.0.0.1:${port}` },
      { username: 'u', password: 'x', serveraddress: { host: `127.0.0.1:${port}` } },
    ]) {
      const r = await post('/auth', body);
      assert.equal(r.status, 400, r.text);
      assert.match(r.message, /of type string/);
    }
    assert.equal(connections, 0);
  });
});

describe("Docker's create-time refusals", () => {
  test('relative WorkingDir (docker CLI)', async () => {
    const r = await daemon.d.docker(['create', '-w', 'rel/dir', 'busybox']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the working directory 'rel\/dir' is invalid, it needs to be an absolute path/);
  });

  test('an environment variable without a name', async () => {
    await refused({ Image: 'busybox', Env: ['A=1', '=oops'] }, /invalid environment variable: =oops/);
  });

  test('OomScoreAdj outside -1000..1000 (docker CLI)', async () => {
    const r = await daemon.d.docker(['create', '--oom-score-adj', '1001', 'busybox']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /range for oom score adj is \[-1000, 1000\]/);
  });

  test('invalid hostname (docker CLI)', async () => {
    for (const h of ['bad_host!', '-lead', 'a'.repeat(65)]) {
      const r = await daemon.d.docker(['create', '--hostname', h, 'busybox']);
      assert.notEqual(r.code, 0, h);
      assert.match(r.stderr, /invalid hostname format/);
    }
  });

  test('ports: host port above 65535, bad keys, bad ExposedPorts', async () => {
    await refused(
      { Image: 'busybox', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '70000' }] } } },
      /invalid port specification: "70000"/,
    );
    await refused(
      { Image: 'busybox', HostConfig: { PortBindings: { 'http/tcp': [{ HostPort: '8080' }] } } },
      /invalid port specification: "http\/tcp"/,
    );
    await refused(
      {
        Image: 'busybox',
        HostConfig: { PortBindings: { '80/tcp': [{ HostIp: 'nope', HostPort: '8080' }] } },
      },
      /invalid IP address: nope/,
    );
    await refused(
      { Image: 'busybox', ExposedPorts: { '99999/tcp': {} } },
      /invalid port specification: "99999\/tcp"/,
    );
    await refused({ Image: 'busybox', ExposedPorts: { '80/bogus': {} } }, /invalid port specification/);
  });

  test('Dns, DnsSearch, DnsOptions and ExtraHosts', async () => {
    await refused(
      { Image: 'busybox', HostConfig: { Dns: ['not-an-ip'] } },
      /IP address is not correctly formatted: not-an-ip/,
    );
    await refused(
      { Image: 'busybox', HostConfig: { DnsOptions: ['ndots:1\nnameserver 6.6.6.6'] } },
      /invalid DNS option/,
    );
    await refused({ Image: 'busybox', HostConfig: { DnsSearch: ['ex ample.com'] } }, /is not a valid domain/);
    await refused({ Image: 'busybox', HostConfig: { ExtraHosts: ['nohostip'] } }, /bad format for add-host/);
    await refused(
      { Image: 'busybox', HostConfig: { ExtraHosts: ['h:999.1.1.1'] } },
      /invalid IP address in add-host/,
    );
    await refused(
      { Image: 'busybox', HostConfig: { ExtraHosts: ['h:1.2.3.4\n6.6.6.6 evil'] } },
      /invalid IP address in add-host/,
    );
    // What the CLI sends for --add-host stays accepted.
    const id = ok(
      await daemon.d.docker(['create', '--add-host', 'db:10.0.0.5', '--dns', '1.1.1.1', 'busybox']),
    ).trim();
    ok(await daemon.d.docker(['rm', id]));
  });

  test('healthcheck durations under 1ms and negative retries', async () => {
    const hc = (h: object) => ({ Image: 'busybox', Healthcheck: { Test: ['CMD', 'true'], ...h } });
    await refused(hc({ Interval: 100 }), /Interval in Healthcheck cannot be less than 1ms/);
    await refused(hc({ Timeout: -5 }), /Timeout in Healthcheck cannot be less than 1ms/);
    await refused(hc({ StartPeriod: 999_999 }), /StartPeriod in Healthcheck cannot be less than 1ms/);
    await refused(hc({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
  });

  test("restart policies in Docker's words; log options", async () => {
    const rp = (p: object) => ({ Image: 'busybox', HostConfig: { RestartPolicy: p } });
    await refused(rp({ Name: 'sometimes' }), /invalid restart policy: unknown policy 'sometimes'/);
    await refused(
      rp({ Name: 'always', MaximumRetryCount: 2 }),
      /maximum retry count can only be used with 'on-failure'/,
    );
    await refused(
      rp({ Name: 'on-failure', MaximumRetryCount: -1 }),
      /maximum retry count cannot be negative/,
    );
    const lc = (c: object) => ({
      Image: 'busybox',
      HostConfig: { LogConfig: { Type: 'json-file', Config: c } },
    });
    await refused(lc({ 'max-size': 'lots' }), /invalid max-size/);
    await refused(lc({ 'max-size': '1k', 'max-file': '100000000' }), /invalid max-file/);
    await refused(lc({ 'max-size': 5 }), /max-size of type string/);
    await refused(
      { Image: 'busybox', HostConfig: { LogConfig: { Type: 'asdf', Config: {} } } },
      /logger: no log driver named 'asdf' is registered/,
    );
    // Docker takes max-file without max-size (nothing rotates then).
    const id = ok(await daemon.d.docker(['create', '--log-opt', 'max-file=3', 'busybox'])).trim();
    ok(await daemon.d.docker(['rm', id]));
  });

  test('a bad MAC address', async () => {
    await refused({ Image: 'busybox', MacAddress: 'zz:zz' }, /invalid MAC address: zz:zz/);
    await refused(
      { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { bridge: { MacAddress: 'nope' } } } },
      /invalid MAC address: nope/,
    );
    const c = await post('/networks/bridge/connect', {
      Container: existing,
      EndpointConfig: { MacAddress: 'x' },
    });
    assert.equal(c.status, 400, c.text);
    assert.match(c.message, /invalid MAC address: x/);
  });
});

test('after every refusal the daemon answers /_ping within a second and lists everything', async () => {
  const t0 = Date.now();
  const r = await daemon.d.request('GET', '/_ping');
  assert.equal(r.status, 200);
  assert.ok(Date.now() - t0 < 1000);
  ok(await daemon.d.docker(['ps', '-a']));
  ok(await daemon.d.docker(['images']));
  ok(await daemon.d.docker(['network', 'ls']));
  ok(await daemon.d.docker(['volume', 'ls']));
});
