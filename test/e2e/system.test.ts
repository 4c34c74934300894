// /_ping, /version, /info, version negotiation and error shapes, through HTTP, the docker CLI,
// dockerode and the berth CLI against one berthd.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.cleanup();
});

describe('API basics', () => {
  test('GET and HEAD /_ping answer OK with Docker headers', async () => {
    const get = await d.request('GET', '/_ping');
    assert.equal(get.status, 200);
    assert.equal(get.body.toString(), 'OK');
    assert.equal(get.headers['api-version'], '1.50');
    assert.equal(get.headers.ostype, 'linux');
    assert.match(String(get.headers.server), /^Berth\//);
    const head = await d.request('HEAD', '/_ping');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['api-version'], '1.50');
  });

  test('/version reports API and minimum versions, versioned and unversioned', async () => {
    for (const p of ['/version', '/v1.41/version', '/v1.43/version', '/v1.50/version']) {
      const r = await d.request('GET', p);
      assert.equal(r.status, 200, p);
      const v = JSON.parse(r.body.toString());
      assert.equal(v.ApiVersion, '1.50');
      assert.equal(v.MinAPIVersion, '1.24');
      assert.equal(v.Os, 'linux');
      assert.ok(v.Version);
      assert.ok(v.KernelVersion);
      assert.ok(Array.isArray(v.Components));
    }
  });

  test('too new and too old API versions are 400 with a message', async () => {
    const tooNew = await d.request('GET', '/v1.99/version');
    assert.equal(tooNew.status, 400);
    assert.match(
      JSON.parse(tooNew.body.toString()).message,
      /client version 1.99 is too new. Maximum supported API version is 1.50/,
    );
    const tooOld = await d.request('GET', '/v1.12/version');
    assert.equal(tooOld.status, 400);
    assert.match(JSON.parse(tooOld.body.toString()).message, /too old/);
  });

  test('unknown routes are 404 with a JSON message', async () => {
    const r = await d.request('GET', '/v1.43/nonsense/route');
    assert.equal(r.status, 404);
    assert.match(r.headers['content-type'] ?? '', /application\/json/);
    assert.match(JSON.parse(r.body.toString()).message, /page not found/);
  });

  test('/info carries real host figures', async () => {
    const r = await d.request('GET', '/info');
    const info = JSON.parse(r.body.toString());
    assert.equal(info.Driver, 'overlay2');
    assert.equal(info.DockerRootDir, d.dataRoot);
    assert.equal(info.NCPU, (await import('node:os')).availableParallelism());
    assert.equal(info.MemTotal, (await import('node:os')).totalmem());
    assert.ok(['1', '2'].includes(info.CgroupVersion));
    assert.equal(info.KernelVersion, (await import('node:os')).release());
    assert.equal(info.Images, 0);
    assert.equal(typeof info.Runtimes, 'object');
  });
});

describe('real clients', () => {
  test('docker CLI 28 negotiates and reads version and info', async () => {
    const v = await d.docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '1.50 linux');
    const i = await d.docker(['info', '--format', '{{.Driver}} {{.DockerRootDir}}']);
    assert.equal(i.code, 0, i.stderr);
    assert.equal(i.stdout.trim(), `overlay2 ${d.dataRoot}`);
  });

  test('dockerode reads version and info', async () => {
    const docker = new Docker({ socketPath: d.socket });
    const v = await docker.version();
    assert.equal(v.ApiVersion, '1.50');
    const info = await docker.info();
    assert.equal(info.Driver, 'overlay2');
    assert.equal(await docker.ping().then((b) => b.toString()), 'OK');
  });

  test('berth version and info', async () => {
    const v = await d.berth(['version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /Server: Berth Engine/);
    assert.match(v.stdout, /API version:\s+1\.50 \(minimum version 1\.24\)/);
    const i = await d.berth(['system', 'info', '--format', '{{.Driver}}']);
    assert.equal(i.code, 0, i.stderr);
    assert.equal(i.stdout.trim(), 'overlay2');
  });

  test('berth: unknown command (exit 1) and unknown flag (exit 125) as docker 28 words them', async () => {
    const c = await d.berth(['frobnicate']);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /^berth: unknown command: berth frobnicate$/m);
    const f = await d.berth(['images', '--bogus']);
    assert.equal(f.code, 125);
    assert.match(f.stderr, /unknown flag: --bogus/);
  });

  test('berth reports an unreachable daemon', async () => {
    const r = await d.berth(['-H', 'unix:///nonexistent/berth.sock', 'version']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot connect to the Berth daemon at unix:\/\/\/nonexistent\/berth.sock/);
  });
});

describe('daemon', () => {
  test('socket is mode 0660 and a second daemon on the same data root is refused', async () => {
    const { statSync } = await import('node:fs');
    assert.equal(statSync(d.socket).mode & 0o777, 0o660);
    const { run } = await import('../helpers/daemon.ts');
    const second = await run(process.execPath, [
      'dist/berthd.mjs',
      '--data-root',
      d.dataRoot,
      '--exec-root',
      `${d.dir}/exec2`,
      '-H',
      `unix://${d.dir}/second.sock`,
      '--config-file',
      `${d.dir}/daemon.json`,
    ]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /another berthd \(pid \d+\) is using data root/);
  });

  test('tcp listeners off loopback are refused', async () => {
    const { run } = await import('../helpers/daemon.ts');
    const r = await run(process.execPath, [
      'dist/berthd.mjs',
      '--data-root',
      `${d.dir}/x`,
      '-H',
      'tcp://0.0.0.0:23750',
      '--config-file',
      `${d.dir}/daemon.json`,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to listen on tcp:\/\/0.0.0.0:23750/);
  });
});
