// API versions 1.24 to 1.50: the same calls at several versions, through raw HTTP (`/v1.NN/…`),
// the docker CLI pinned with DOCKER_API_VERSION, dockerode with `version` and docker-py with a
// pinned `version`; each asserts the fields the version history gives that version.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Docker from 'dockerode';
import { run } from '../helpers/daemon.ts';
import { ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

async function json(method: string, p: string, body?: unknown) {
  const r = await daemon.d.request(
    method,
    p,
    body === undefined ? undefined : JSON.stringify(body),
    body === undefined ? {} : { 'Content-Type': 'application/json' },
  );
  const text = r.body.toString();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
}

const has = (o: object, k: string) => Object.hasOwn(o, k);

async function runningOn(net: string, name: string): Promise<string> {
  const c = await json('POST', `/v1.50/containers/create?name=${name}`, {
    Image: 'busybox',
    Cmd: ['sleep', '300'],
    HostConfig: { NetworkMode: net },
  });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  assert.equal((await json('POST', `/v1.50/containers/${c.body.Id}/start`)).status, 204);
  return c.body.Id as string;
}

describe('negotiation', () => {
  test('1.50 is the highest version, 1.24 the lowest; beyond them a 400 in Docker words', async () => {
    const v = await json('GET', '/version');
    assert.equal(v.body.ApiVersion, '1.50');
    assert.equal(v.body.MinAPIVersion, '1.24');
    assert.equal(v.headers['api-version'], '1.50');
    for (const p of ['/v1.24/version', '/v1.41/version', '/v1.44/version', '/v1.50/version'])
      assert.equal((await json('GET', p)).status, 200, p);
    const tooNew = await json('GET', '/v1.51/version');
    assert.equal(tooNew.status, 400);
    assert.equal(
      tooNew.body.message,
      'client version 1.51 is too new. Maximum supported API version is 1.50',
    );
    assert.equal((await json('GET', '/v1.23/version')).status, 400);
  });

  test('the docker CLI 28 speaks 1.50 without negotiating down, and runs a container', async () => {
    const d = daemon.d;
    assert.equal(
      ok(await d.docker(['version', '--format', '{{.Client.APIVersion}} {{.Server.APIVersion}}'])).trim(),
      '1.50 1.50',
    );
    assert.equal(ok(await d.docker(['run', '--rm', 'busybox', 'echo', 'hi at 1.50'])).trim(), 'hi at 1.50');
  });
});

describe('images', () => {
  test('image inspect: VirtualSize until 1.44, Container/ContainerConfig until 1.45, container Config keys until 1.50', async () => {
    const at = async (v: string) => (await json('GET', `/v${v}/images/busybox/json`)).body;
    for (const v of ['1.24', '1.41', '1.43']) {
      const i = await at(v);
      assert.ok(has(i, 'VirtualSize') && has(i, 'Container') && has(i, 'ContainerConfig'), v);
      assert.equal(i.Config.Hostname, '', v);
    }
    const i44 = await at('1.44');
    assert.ok(!has(i44, 'VirtualSize'));
    assert.ok(has(i44, 'Container') && has(i44, 'ContainerConfig'));
    const i45 = await at('1.45');
    assert.ok(!has(i45, 'Container') && !has(i45, 'ContainerConfig'));
    assert.ok(has(i45.Config, 'Hostname') && has(i45.Config, 'AttachStdin'));
    const i50 = await at('1.50');
    for (const k of ['Hostname', 'Domainname', 'AttachStdin', 'Tty', 'OpenStdin', 'StdinOnce', 'Image'])
      assert.ok(!has(i50.Config, k), k);
    assert.deepEqual(i50.Config.Cmd, ['sh']);
    assert.equal(i50.Size, i45.Size);
  });

  test('image list: VirtualSize until 1.44; an image without names is <none>:<none> until 1.43', async () => {
    const c = await json('POST', '/v1.50/containers/create', { Image: 'busybox', Cmd: ['true'] });
    const img = await json('POST', `/v1.50/commit?container=${c.body.Id}`);
    assert.equal(img.status, 201, JSON.stringify(img.body));
    const find = async (v: string) =>
      ((await json('GET', `/v${v}/images/json`)).body as { Id: string }[]).find(
        (x) => x.Id === img.body.Id,
      ) as Record<string, unknown> | undefined;
    const old = await find('1.41');
    assert.deepEqual(old?.RepoTags, ['<none>:<none>']);
    assert.deepEqual(old?.RepoDigests, ['<none>@<none>']);
    assert.ok(has(old!, 'VirtualSize'));
    const v43 = await find('1.43');
    assert.deepEqual(v43?.RepoTags, []);
    assert.ok(has(v43!, 'VirtualSize'));
    const v44 = await find('1.44');
    assert.ok(!has(v44!, 'VirtualSize'));
    assert.ok(has(v44!, 'Size') && has(v44!, 'Containers') && has(v44!, 'SharedSize'));
  });

  test('GET /images/json?filter= (singular) is API < 1.41 only; image events keep status and id', async () => {
    const names = async (v: string) =>
      ((await json('GET', `/v${v}/images/json?filter=nomatch*`)).body as { RepoTags: string[] }[]).flatMap(
        (i) => i.RepoTags,
      );
    assert.ok(!(await names('1.40')).includes('busybox:latest'));
    assert.ok((await names('1.41')).includes('busybox:latest'));
    const since = Math.floor(Date.now() / 1000) - 1;
    assert.equal((await json('POST', '/v1.41/images/busybox/tag?repo=apiver-tag&tag=1')).status, 201);
    const r = await daemon.d.request(
      'GET',
      `/v1.41/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent('{"type":["image"]}')}`,
    );
    const events = r.body
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const tag = events.find((e) => e.Action === 'tag');
    assert.ok(tag, r.body.toString());
    assert.equal(tag.status, 'tag');
    assert.equal(tag.id, tag.Actor.ID);
  });

  test('system df: VirtualSize until 1.44, BuilderSize until 1.42, type= only from 1.42', async () => {
    const old = (await json('GET', '/v1.41/system/df?type=volume')).body;
    assert.ok(has(old, 'BuilderSize') && has(old, 'Images'), 'API 1.41 ignores type= and lists everything');
    assert.ok(old.Images.length > 0 && has(old.Images[0], 'VirtualSize'));
    const v44 = (await json('GET', '/v1.44/system/df')).body;
    assert.ok(!has(v44, 'BuilderSize'));
    assert.ok(!has(v44.Images[0], 'VirtualSize'));
    const typed = (await json('GET', '/v1.44/system/df?type=volume')).body;
    assert.ok(!has(typed, 'Images') && has(typed, 'Volumes'));
  });

  test('dockerode with version v1.41 and v1.44 reads the shape of its version', async () => {
    const old = new Docker({ socketPath: daemon.d.socket, version: 'v1.41' });
    const cur = new Docker({ socketPath: daemon.d.socket, version: 'v1.44' });
    const a = (await old.getImage('busybox').inspect()) as unknown as Record<string, unknown>;
    const b = (await cur.getImage('busybox').inspect()) as unknown as Record<string, unknown>;
    assert.ok(has(a, 'VirtualSize'));
    assert.ok(!has(b, 'VirtualSize') && has(b, 'ContainerConfig'));
    const list = (await old.listImages()) as unknown as Record<string, unknown>[];
    assert.ok(list.every((x) => has(x, 'VirtualSize')));
  });

  test('the docker CLI pinned to 1.41 and 1.45 (DOCKER_API_VERSION)', async () => {
    const d = daemon.d;
    const fmt = '{{json .}}';
    const at = async (v: string) =>
      JSON.parse(
        ok(
          await d.docker(['image', 'inspect', '--format', fmt, 'busybox'], {
            env: { DOCKER_API_VERSION: v },
          }),
        ),
      );
    assert.ok(has(await at('1.41'), 'VirtualSize'));
    const i45 = await at('1.45');
    assert.ok(!has(i45, 'VirtualSize'));
    // The CLI's own type has the field; 1.45 sends none, so it prints the zero value.
    assert.ok(
      !i45.ContainerConfig || Object.keys(i45.ContainerConfig).length === 0 || i45.ContainerConfig === null,
    );
    assert.equal(
      ok(
        await d.docker(['ps', '-a', '--format', '{{.Image}}'], { env: { DOCKER_API_VERSION: '1.47' } }),
      ).includes('busybox'),
      true,
    );
  });
});

describe('system', () => {
  test('/info fields per version', async () => {
    const at = async (v: string) => (await json('GET', `/v${v}/info`)).body;
    const i24 = await at('1.24');
    assert.equal(i24.ExecutionDriver, '<not supported>');
    assert.ok(!has(i24, 'Isolation'));
    assert.equal((await at('1.25')).Isolation, '');
    assert.deepEqual(i24.SecurityOptions, ['seccomp']);
    const i41 = await at('1.41');
    assert.ok(!has(i41, 'ExecutionDriver'));
    assert.ok(has(i41, 'KernelMemory') && has(i41, 'KernelMemoryTCP'));
    assert.ok(!has(i41, 'CDISpecDirs'));
    assert.deepEqual(i41.SecurityOptions, ['name=seccomp,profile=builtin']);
    const i44 = await at('1.44');
    assert.ok(!has(i44, 'KernelMemory'));
    assert.deepEqual(i44.CDISpecDirs, []);
    const i48 = await at('1.48');
    assert.equal(i48.BridgeNfIptables, false);
    assert.ok(has(i48.RegistryConfig, 'AllowNondistributableArtifactsCIDRs'));
    assert.ok(has(i48.ContainerdCommit, 'Expected') && !has(i48, 'FirewallBackend'));
    const i49 = await at('1.49');
    assert.ok(!has(i49.RegistryConfig, 'AllowNondistributableArtifactsCIDRs'));
    assert.ok(!has(i49.ContainerdCommit, 'Expected'));
    assert.deepEqual(i49.FirewallBackend, { Driver: 'iptables' });
    assert.ok(has(i49, 'BridgeNfIptables'));
    const i50 = await at('1.50');
    assert.ok(!has(i50, 'BridgeNfIptables') && !has(i50, 'BridgeNfIp6tables'));
  });

  test('docker-py pinned to 1.41 and 1.45', async () => {
    const script = `
import docker, json
out = {}
for v in ['1.41', '1.45']:
    c = docker.APIClient(base_url='unix://${daemon.d.socket}', version=v)
    i = c.inspect_image('busybox')
    out[v] = {'VirtualSize': 'VirtualSize' in i, 'ContainerConfig': 'ContainerConfig' in i,
              'KernelMemory': 'KernelMemory' in c.info(), 'api': c.api_version}
print(json.dumps(out))
`;
    const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      '1.41': { VirtualSize: true, ContainerConfig: true, KernelMemory: true, api: '1.41' },
      '1.45': { VirtualSize: false, ContainerConfig: false, KernelMemory: false, api: '1.45' },
    });
  });
});

describe('containers', () => {
  test('inspect on a user network: short ID in Aliases until 1.45, DNSNames from 1.44, GwPriority from 1.48', async () => {
    const net = await json('POST', '/v1.50/networks/create', { Name: 'apiver-net' });
    assert.equal(net.status, 201, JSON.stringify(net.body));
    const id = await runningOn('apiver-net', 'apiver-a');
    const short = id.slice(0, 12);
    const ep = async (v: string) =>
      (await json('GET', `/v${v}/containers/${id}/json`)).body.NetworkSettings.Networks['apiver-net'];
    const e43 = await ep('1.43');
    assert.ok(e43.Aliases.includes(short));
    assert.ok(!has(e43, 'DNSNames') && !has(e43, 'GwPriority'));
    const e44 = await ep('1.44');
    assert.ok(e44.Aliases.includes(short));
    assert.deepEqual(e44.DNSNames, ['apiver-a', short]);
    const e45 = await ep('1.45');
    assert.equal(e45.Aliases, null);
    assert.deepEqual(e45.DNSNames, ['apiver-a', short]);
    assert.ok(!has(e45, 'GwPriority'));
    assert.equal((await ep('1.48')).GwPriority, 0);
    // ps shows the same endpoint shape.
    const list = (await json('GET', '/v1.44/containers/json')).body as {
      Id: string;
      NetworkSettings: { Networks: Record<string, Record<string, unknown>> };
    }[];
    assert.deepEqual(list.find((c) => c.Id === id)?.NetworkSettings.Networks['apiver-net']?.DNSNames, [
      'apiver-a',
      short,
    ]);
  });

  test('several networks at create: a 400 before 1.44, all connected from 1.44', async () => {
    for (const n of ['apiver-n1', 'apiver-n2'])
      assert.equal((await json('POST', '/v1.50/networks/create', { Name: n })).status, 201);
    const body = {
      Image: 'busybox',
      Cmd: ['sleep', '300'],
      HostConfig: { NetworkMode: 'apiver-n1' },
      NetworkingConfig: { EndpointsConfig: { 'apiver-n1': {}, 'apiver-n2': { Aliases: ['second'] } } },
    };
    const old = await json('POST', '/v1.43/containers/create', body);
    assert.equal(old.status, 400);
    assert.match(old.body.message, /apiver-n1, apiver-n2/);
    const cur = await json('POST', '/v1.44/containers/create?name=apiver-multi', body);
    assert.equal(cur.status, 201, JSON.stringify(cur.body));
    const nets = (await json('GET', `/v1.44/containers/${cur.body.Id}/json`)).body.NetworkSettings.Networks;
    assert.deepEqual(Object.keys(nets).sort(), ['apiver-n1', 'apiver-n2']);
    assert.deepEqual(nets['apiver-n2'].Aliases, ['second']);
    // An unknown extra network fails the whole create and leaves no container behind.
    const bad = await json('POST', '/v1.44/containers/create?name=apiver-bad', {
      ...body,
      NetworkingConfig: { EndpointsConfig: { 'apiver-n1': {}, 'apiver-missing': {} } },
    });
    assert.ok(bad.status >= 400, JSON.stringify(bad.body));
    assert.equal((await json('GET', '/v1.44/containers/apiver-bad/json')).status, 404);
  });

  test('the container-wide MacAddress: taken before 1.44, moved to the endpoint with a warning from 1.44', async () => {
    const mac = '02:42:ac:11:00:99';
    const old = await json('POST', '/v1.41/containers/create', {
      Image: 'busybox',
      Cmd: ['true'],
      MacAddress: mac,
    });
    assert.equal(old.status, 201, JSON.stringify(old.body));
    assert.deepEqual(old.body.Warnings, []);
    const cur = await json('POST', '/v1.44/containers/create', {
      Image: 'busybox',
      Cmd: ['true'],
      MacAddress: mac,
    });
    assert.equal(cur.status, 201, JSON.stringify(cur.body));
    assert.match(cur.body.Warnings.join('\n'), /container-wide MacAddress field is now deprecated/);
    const ep = (await json('GET', `/v1.44/containers/${cur.body.Id}/json`)).body.NetworkSettings.Networks
      .bridge;
    assert.equal(ep.MacAddress, mac);
    // Before 1.44 an endpoint had no MAC of its own: it is ignored.
    const ignored = await json('POST', '/v1.43/containers/create', {
      Image: 'busybox',
      Cmd: ['true'],
      NetworkingConfig: { EndpointsConfig: { bridge: { MacAddress: mac } } },
    });
    const ep43 = (await json('GET', `/v1.43/containers/${ignored.body.Id}/json`)).body.NetworkSettings
      .Networks.bridge;
    assert.equal(ep43.MacAddress, '');
  });

  test('create fields of newer versions: Subpath needs 1.45, StartInterval kept from 1.44, KernelMemory dropped from 1.42', async () => {
    const sub = {
      Image: 'busybox',
      HostConfig: {
        Mounts: [{ Type: 'volume', Source: 'apiver-vol', Target: '/v', VolumeOptions: { Subpath: 'a' } }],
      },
    };
    const s44 = await json('POST', '/v1.44/containers/create', sub);
    assert.equal(s44.status, 400);
    assert.equal(s44.body.message, 'VolumeOptions.Subpath needs API v1.45 or newer');
    const s45 = await json('POST', '/v1.45/containers/create', sub);
    assert.equal(s45.status, 501);
    assert.match(s45.body.message, /Subpath is not supported/);
    const health = { Test: ['CMD', 'true'], Interval: 1e9, StartInterval: 5e8 };
    const hc = async (v: string) => {
      const c = await json('POST', `/v${v}/containers/create`, { Image: 'busybox', Healthcheck: health });
      return (await json('GET', `/v1.50/containers/${c.body.Id}/json`)).body.Config.Healthcheck;
    };
    assert.equal((await hc('1.44')).StartInterval, 5e8);
    assert.ok(!has(await hc('1.43'), 'StartInterval'));
    const km = async (v: string) => {
      const c = await json('POST', `/v${v}/containers/create`, {
        Image: 'busybox',
        HostConfig: { KernelMemory: 8 << 20 },
      });
      return {
        warnings: c.body.Warnings as string[],
        host: (await json('GET', `/v${v}/containers/${c.body.Id}/json`)).body.HostConfig,
      };
    };
    const k41 = await km('1.41');
    assert.equal(k41.host.KernelMemory, 8 << 20);
    assert.equal(k41.host.KernelMemoryTCP, 0);
    const k42 = await km('1.42');
    assert.deepEqual(k42.warnings, []);
    assert.ok(!has(k42.host, 'KernelMemory') && !has(k42.host, 'KernelMemoryTCP'));
  });

  test('Healthcheck.StartInterval (1.44) paces the probes of the start period', async () => {
    const health = { Test: ['CMD', 'true'], Interval: 3600e9, StartPeriod: 3600e9, StartInterval: 2e8 };
    const started = async (v: string) => {
      const c = await json('POST', `/v${v}/containers/create`, {
        Image: 'busybox',
        Cmd: ['sleep', '300'],
        Healthcheck: health,
      });
      assert.equal((await json('POST', `/v1.50/containers/${c.body.Id}/start`)).status, 204);
      return c.body.Id as string;
    };
    const status = async (id: string) =>
      (await json('GET', `/v1.50/containers/${id}/json`)).body.State.Health.Status;
    const fast = await started('1.44');
    const slow = await started('1.43');
    await until('the 1.44 container healthy', async () => (await status(fast)) === 'healthy', 20_000);
    // Without StartInterval (dropped below 1.44) the first probe waits for the hour-long Interval.
    assert.equal(await status(slow), 'starting');
  });

  test('DeviceRequests (1.40): refused as by a Docker without a device driver, ignored before 1.40', async () => {
    const body = {
      Image: 'busybox',
      HostConfig: { DeviceRequests: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }] },
    };
    const r = await json('POST', '/v1.41/containers/create', body);
    assert.equal(r.status, 400);
    assert.match(
      r.body.message,
      /^could not select device driver "" with capabilities: \[\[gpu\]\]: berthd has no GPU runtime/,
    );
    assert.equal((await json('POST', '/v1.39/containers/create', body)).status, 201);
  });

  test('defaults older clients expect: IpcMode shareable before 1.40, AutoRemove not before 1.25', async () => {
    const c = await json('POST', '/v1.39/containers/create', { Image: 'busybox' });
    assert.equal(
      (await json('GET', `/v1.39/containers/${c.body.Id}/json`)).body.HostConfig.IpcMode,
      'shareable',
    );
    const r = await json('POST', '/v1.24/containers/create', {
      Image: 'busybox',
      HostConfig: { AutoRemove: true },
    });
    assert.equal(
      (await json('GET', `/v1.24/containers/${r.body.Id}/json`)).body.HostConfig.AutoRemove,
      false,
    );
  });

  test('logs and wait: multiplexed Content-Type from 1.42, wait condition from 1.30', async () => {
    const c = await json('POST', '/v1.50/containers/create', { Image: 'busybox', Cmd: ['echo', 'x'] });
    assert.equal((await json('POST', `/v1.50/containers/${c.body.Id}/start`)).status, 204);
    const w = await json('POST', `/v1.50/containers/${c.body.Id}/wait`);
    assert.equal(w.body.StatusCode, 0);
    const logs = async (v: string) =>
      (await daemon.d.request('GET', `/v${v}/containers/${c.body.Id}/logs?stdout=1`)).headers['content-type'];
    assert.equal(await logs('1.41'), 'application/vnd.docker.raw-stream');
    assert.equal(await logs('1.42'), 'application/vnd.docker.multiplexed-stream');
    assert.equal((await json('POST', `/v1.30/containers/${c.body.Id}/wait?condition=bogus`)).status, 400);
    const legacy = await json('POST', `/v1.29/containers/${c.body.Id}/wait?condition=bogus`);
    assert.equal(legacy.status, 200);
    assert.equal(legacy.body.StatusCode, 0);
  });

  test('stop and restart take signal= from 1.42 (docker restart -s at 1.50)', async () => {
    const d = daemon.d;
    const script = "trap 'echo got-usr1; exit 0' USR1; while true; do sleep 0.1; done";
    const id = ok(await d.docker(['run', '-d', 'busybox', 'sh', '-c', script])).trim();
    const logs = async () => (await d.docker(['logs', id])).stdout;
    // At 1.41 the signal is not API, so the default SIGTERM (ignored by PID 1) and a kill follow.
    assert.equal((await json('POST', `/v1.41/containers/${id}/restart?t=1&signal=SIGUSR1`)).status, 204);
    assert.ok(!(await logs()).includes('got-usr1'));
    ok(await d.docker(['restart', '-s', 'SIGUSR1', '-t', '10', id]));
    assert.ok((await logs()).includes('got-usr1'));
    assert.equal((await json('POST', `/v1.42/containers/${id}/stop?t=10&signal=SIGUSR1`)).status, 204);
    assert.equal((await logs()).split('got-usr1').length, 3);
  });

  test('networks: EnableIPv4 from 1.48, and it cannot be turned off', async () => {
    assert.ok(!has((await json('GET', '/v1.47/networks/bridge')).body, 'EnableIPv4'));
    assert.equal((await json('GET', '/v1.48/networks/bridge')).body.EnableIPv4, true);
    const off = await json('POST', '/v1.48/networks/create', { Name: 'apiver-v6only', EnableIPv4: false });
    assert.equal(off.status, 400);
    assert.match(off.body.message, /IPv4 cannot be disabled/);
  });
});
