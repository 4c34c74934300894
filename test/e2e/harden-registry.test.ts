// Hardening of pulls and pushes through berthd (issue 14 §4, §5): a registry's "unauthorized"
// never reaches the docker CLI as a 401 (which makes it wait at a password prompt), an error
// after the progress stream began arrives in-band, and images sharing layers push into a second
// repository whether or not the token lets the registry mount them from the first.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fsp } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServedRegistry, serveRegistry, writeHtpasswd } from '../helpers/berth-registry.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
let basicReg: ServedRegistry;
let tokenReg: ServedRegistry;
const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-hregd-'));

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

before(async () => {
  d = await startTestDaemon();
  await writeHtpasswd(path.join(dir, 'users'), { alice: 'pw', writer: 'pw', bob: 'pw' });
  await fsp.writeFile(path.join(dir, 'secret'), 'a-test-signing-key-of-enough-length');
  [basicReg, tokenReg] = await Promise.all([
    serveRegistry(path.join(dir, 'basic'), ['--htpasswd', path.join(dir, 'users')]),
    serveRegistry(path.join(dir, 'token'), [
      '--htpasswd',
      path.join(dir, 'users'),
      '--token-secret',
      path.join(dir, 'secret'),
      '--acl',
      'writer:*:pull,push',
      '--acl',
      'bob:c/*:pull,push',
    ]),
  ]);
  // Two images with one layer in common (same tar, different configs).
  ok(await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'local/one:1']));
  ok(await d.berth(['import', '-c', 'CMD ["true"]', busyboxTar(), 'local/two:1']));
  ok(await d.berth(['import', '-c', 'CMD ["false"]', busyboxTar(), 'local/three:1']));
});
after(async () => {
  await d?.cleanup();
  await Promise.all([basicReg?.stop(), tokenReg?.stop()]);
  await fsp.rm(dir, { recursive: true, force: true });
});

/** The daemon answers `/_ping` within a second. */
async function responsive(): Promise<void> {
  const t = performance.now();
  const r = await d.request('GET', '/_ping');
  assert.equal(r.status, 200);
  assert.ok(performance.now() - t < 1000, 'the daemon answers /_ping within 1 s');
}

describe('pull without a login', () => {
  for (const [mode, reg] of [
    ['basic', () => basicReg],
    ['token', () => tokenReg],
  ] as const) {
    test(`${mode} auth: docker pull fails at once with "pull access denied"; the daemon answers 404`, async () => {
      const ref = `${reg().host}/priv/app:1`;
      const t = performance.now();
      const r = await d.docker(['pull', ref], { inputFile: '/dev/null', timeoutMs: 20_000 });
      const ms = performance.now() - t;
      assert.notEqual(r.code, 0);
      assert.ok(ms < 15_000, `docker pull took ${Math.round(ms)} ms (a password prompt waits forever)`);
      assert.match(
        r.stderr,
        /pull access denied for .*priv\/app, repository does not exist or may require 'docker login'/,
      );
      const api = await d.request(
        'POST',
        `/images/create?fromImage=${encodeURIComponent(`${reg().host}/priv/app`)}&tag=1`,
      );
      assert.equal(api.status, 404, api.body.toString());
      assert.match(JSON.parse(api.body.toString()).message, /pull access denied/);
      // docker run of the same image: create answers 404, the CLI pulls, and fails as plainly.
      const run = await d.docker(['run', '--rm', ref], { inputFile: '/dev/null', timeoutMs: 20_000 });
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /pull access denied/);
      await responsive();
    });
  }

  test('a build whose FROM needs a login fails at once, not at a prompt', async () => {
    const ctx = path.join(dir, 'ctx');
    await fsp.mkdir(ctx, { recursive: true });
    await fsp.writeFile(path.join(ctx, 'Dockerfile'), `FROM ${basicReg.host}/priv/base:1\nRUN true\n`);
    const r = await d.docker(['build', '-q', ctx], {
      inputFile: '/dev/null',
      timeoutMs: 20_000,
      env: { DOCKER_BUILDKIT: '0' },
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /pull access denied/);
  });
});

describe('errors after the stream began', () => {
  test('a blob refused after the manifest came is an in-band JSON error line', async () => {
    // A registry that serves a manifest and then refuses its blobs.
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const cfgDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: cfgDigest,
      },
      layers: [],
    });
    const server = http.createServer((req, res) => {
      if (req.url === '/v2/' || req.url?.includes('/manifests/')) {
        res.writeHead(200, {
          'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json',
          'Docker-Distribution-Api-Version': 'registry/2.0',
        });
        return res.end(req.url === '/v2/' ? '{}' : manifest);
      }
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Basic realm="fake"' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      const api = await d.request(
        'POST',
        `/images/create?fromImage=${encodeURIComponent(`${host}/x/y`)}&tag=1`,
      );
      assert.equal(api.status, 200);
      const lines = api.body
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { status?: string; error?: string; errorDetail?: { message: string } });
      assert.match(String(lines[0]!.status), /Pulling from x\/y/);
      const last = lines.at(-1)!;
      assert.match(String(last.error), /pull access denied for .*x\/y/);
      assert.equal(last.errorDetail?.message, last.error);
      const r = await d.docker(['pull', `${host}/x/y:1`], { inputFile: '/dev/null', timeoutMs: 20_000 });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /pull access denied/);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});

describe('pushing shared layers into a second repository', () => {
  test('token covers the source: the layer is mounted', async () => {
    const env = { DOCKER_CONFIG: path.join(dir, 'cfg-writer') };
    ok(await d.docker(['login', '-u', 'writer', '--password-stdin', tokenReg.host], { input: 'pw', env }));
    ok(await d.docker(['tag', 'local/one:1', `${tokenReg.host}/a/app:1`]));
    assert.match(ok(await d.docker(['push', `${tokenReg.host}/a/app:1`], { env })), /Pushed/);
    ok(await d.docker(['tag', 'local/two:1', `${tokenReg.host}/b/app:1`]));
    const out = ok(await d.docker(['push', `${tokenReg.host}/b/app:1`], { env }));
    assert.match(out, /Mounted from a\/app/);
    assert.match(out, /1: digest: sha256:/);
  });

  test('token does not cover the source: the layer is uploaded instead', async () => {
    const env = { DOCKER_CONFIG: path.join(dir, 'cfg-bob') };
    ok(await d.docker(['login', '-u', 'bob', '--password-stdin', tokenReg.host], { input: 'pw', env }));
    ok(await d.docker(['tag', 'local/three:1', `${tokenReg.host}/c/app:1`]));
    const out = ok(await d.docker(['push', `${tokenReg.host}/c/app:1`], { env }));
    assert.doesNotMatch(out, /Mounted from/);
    assert.match(out, /Pushed/);
    // The pushed image pulls back whole.
    ok(await d.docker(['rmi', `${tokenReg.host}/c/app:1`]));
    ok(await d.docker(['pull', `${tokenReg.host}/c/app:1`], { env }));
    // bob may not push into a/: that is reported in-band and the CLI does not prompt.
    ok(await d.docker(['tag', 'local/three:1', `${tokenReg.host}/a/bob:1`]));
    const denied = await d.docker(['push', `${tokenReg.host}/a/bob:1`], {
      env,
      inputFile: '/dev/null',
      timeoutMs: 20_000,
    });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr + denied.stdout, /denied/);
    await responsive();
  });
});
