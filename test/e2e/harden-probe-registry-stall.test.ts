// Issue 14 probe: a registry that stops talking. A pull from a registry that sends headers and
// then part of a manifest or blob, or nothing at all, used to wait forever (the only timer was
// for the response headers). Now every registry request has an idle timer: the pull fails with
// a message naming the silence, the daemon stays responsive meanwhile, nothing is tagged, and
// the connections to the registry are closed. A registry that closes mid-response is named in
// the error (Node only says "aborted"). (berthd runs with a 1.5 s idle limit here.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { makeTar } from '../helpers/tarballs.ts';

let d: TestDaemon;
let reg: http.Server;
let port = 0;
const sockets = new Set<net.Socket>();
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let layer: Buffer;
let config: string;
let manifest: string;

before(async () => {
  d = await startTestDaemon({ env: { BERTH_REGISTRY_IDLE_TIMEOUT_MS: '1500' } });
  layer = await makeTar([{ name: 'f', body: 'x' }]);
  config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [sha(layer)] },
    config: {},
  });
  manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      digest: sha(config),
      size: config.length,
    },
    layers: [
      { mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: sha(layer), size: layer.length },
    ],
  });
  // One hostile registry; the repository name picks how it misbehaves.
  reg = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    const repo = /^\/v2\/([^/]+)\//.exec(url)?.[1] ?? '';
    if (url.includes('/manifests/')) {
      if (repo === 'silent') return; // never a header
      res.writeHead(200, {
        'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json',
        'Content-Length': String(manifest.length),
        'Docker-Content-Digest': sha(manifest),
      });
      if (repo === 'half-manifest') return void res.write(manifest.slice(0, 20)); // then silence
      if (repo === 'short-manifest') {
        res.write(manifest.slice(0, 20));
        return void setTimeout(() => res.socket?.destroy(), 50); // closes with bytes missing
      }
      return void res.end(manifest);
    }
    if (url.includes('/blobs/')) {
      const body = url.includes(sha(config).slice(7)) ? Buffer.from(config) : layer;
      res.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(body.length),
      });
      if (repo === 'half-blob') return void res.write(body.subarray(0, 10)); // then silence
      if (repo === 'short-blob') {
        res.write(body.subarray(0, 10));
        return void setTimeout(() => res.socket?.destroy(), 50);
      }
      return void res.end(body);
    }
    res.writeHead(404).end();
  });
  reg.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => reg.listen(0, '127.0.0.1', r));
  port = (reg.address() as net.AddressInfo).port;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => reg?.close(r));
  await d?.cleanup();
});

async function pingMs(): Promise<number> {
  const t = performance.now();
  const r = await Promise.race([
    d.request('GET', '/_ping'),
    new Promise<null>((res) => setTimeout(() => res(null), 1000)),
  ]);
  assert.ok(r && r.status === 200, '/_ping answers within a second');
  return performance.now() - t;
}

for (const repo of ['silent', 'half-manifest', 'half-blob']) {
  test(`${repo}: the pull fails on the registry's silence; the daemon stays responsive`, async () => {
    const t0 = Date.now();
    const pull = d.docker(['pull', `127.0.0.1:${port}/${repo}:1`], { timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 500));
    assert.ok((await pingMs()) < 1000);
    const r = await pull;
    const took = Date.now() - t0;
    assert.notEqual(r.code, 0, `the pull must fail: ${r.stdout}${r.stderr}`);
    // Without an idle timer the pull waits until the test's own 40 s kill.
    assert.ok(took < 25_000, `the pull gave up after ${took} ms`);
    assert.match(r.stdout + r.stderr, /sent nothing for 1\.5s/);
    const images = (await d.docker(['images', '--format', '{{.Repository}}'])).stdout;
    assert.doesNotMatch(images, new RegExp(repo));
    // Nothing still holds a connection to the silent registry.
    const end = Date.now() + 5000;
    while (sockets.size > 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 100));
    assert.equal(sockets.size, 0, 'berthd closed its connections to the registry');
  });
}

for (const repo of ['short-manifest', 'short-blob']) {
  test(`${repo}: a registry that closes mid-response is named in the error, not "aborted"`, async () => {
    const r = await d.docker(['pull', `127.0.0.1:${port}/${repo}:1`], { timeoutMs: 40_000 });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stdout + r.stderr, /closed the connection before the response was complete/);
    assert.ok((await pingMs()) < 1000);
  });
}

test('a healthy pull from the same server still works (the timer is idle time, not a deadline)', async () => {
  const r = await d.docker(['pull', `127.0.0.1:${port}/fine:1`], { timeoutMs: 40_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await pingMs()) < 1000);
});
