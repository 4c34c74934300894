// Issue 14 probe: manifests and indexes from a registry or a `docker load` archive are
// attacker documents. A 1 KB manifest naming one tiny layer thousands of times made berthd
// extract a layer directory per entry (14000 in a minute, until the disk or the client gave
// out); `null` where a descriptor belongs answered "Cannot read properties of null". Now an
// image has at most 500 layers (overlayfs' stacking limit) and malformed documents are refused by name,
// before anything is downloaded or extracted.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { dockerLegacyArchive, makeTar } from '../helpers/tarballs.ts';

let d: TestDaemon;
let reg: http.Server;
let port = 0;
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const M2 = 'application/vnd.docker.distribution.manifest.v2+json';
const IDX = 'application/vnd.oci.image.index.v1+json';
const manifests = new Map<string, { type: string; body: string }>();
const blobs = new Map<string, Buffer>();
let layer: Buffer;

function image(repo: string, nLayers: number): void {
  const cfg = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: Array(nLayers).fill(sha(layer)) },
      config: {},
    }),
  );
  blobs.set(sha(cfg), cfg);
  const l = {
    mediaType: 'application/vnd.docker.image.rootfs.diff.tar',
    digest: sha(layer),
    size: layer.length,
  };
  manifests.set(repo, {
    type: M2,
    body: JSON.stringify({
      schemaVersion: 2,
      mediaType: M2,
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        digest: sha(cfg),
        size: cfg.length,
      },
      layers: Array(nLayers).fill(l),
    }),
  });
}

before(async () => {
  d = await startTestDaemon();
  layer = await makeTar([{ name: 'f', body: 'x' }]);
  blobs.set(sha(layer), layer);
  image('many', 600);
  image('fine', 2);
  manifests.set('index-null', { type: IDX, body: JSON.stringify({ schemaVersion: 2, manifests: null }) });
  manifests.set('index-entry-null', {
    type: IDX,
    body: JSON.stringify({ schemaVersion: 2, manifests: [null] }),
  });
  manifests.set('layer-null', {
    type: M2,
    body: JSON.stringify({
      schemaVersion: 2,
      mediaType: M2,
      config: { digest: sha('x'), size: 1 },
      layers: [null],
    }),
  });
  manifests.set('config-string', {
    type: M2,
    body: JSON.stringify({ schemaVersion: 2, mediaType: M2, config: 'sha256:abc', layers: [] }),
  });
  reg = http.createServer((req, res) => {
    const m = /^\/v2\/([^/]+)\/(manifests|blobs)\/(.+)$/.exec(req.url ?? '');
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    if (!m) return void res.writeHead(404).end();
    if (m[2] === 'manifests') {
      const x = manifests.get(m[1]!);
      if (!x) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'Content-Type': x.type }).end(x.body);
    }
    const b = blobs.get(m[3]!);
    if (!b) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Length': String(b.length) }).end(b);
  });
  await new Promise<void>((r) => reg.listen(0, '127.0.0.1', r));
  port = (reg.address() as net.AddressInfo).port;
});

after(async () => {
  reg?.closeAllConnections();
  await new Promise((r) => reg?.close(r));
  await d?.cleanup();
});

const layerDirs = async () => (await readdir(path.join(d.dataRoot, 'layers')).catch(() => [])).length;

test('a manifest with 600 layers is refused before any layer is fetched', async () => {
  const before = await layerDirs();
  const t0 = Date.now();
  const r = await d.docker(['pull', `127.0.0.1:${port}/many:1`], { timeoutMs: 60_000 });
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stdout + r.stderr, /lists 600 layers; at most 500 are supported/);
  assert.ok(Date.now() - t0 < 10_000);
  assert.equal(await layerDirs(), before, 'no layer directory was made');
});

for (const repo of ['index-null', 'index-entry-null', 'layer-null', 'config-string']) {
  test(`${repo}: refused as a malformed document, not a TypeError`, async () => {
    const r = await d.docker(['pull', `127.0.0.1:${port}/${repo}:1`], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stdout + r.stderr, /is malformed: /);
    assert.doesNotMatch(r.stdout + r.stderr, /Cannot read properties|is not a function|undefined/);
  });
}

test('docker load of an archive whose image has 600 layers is refused, nothing extracted', async () => {
  const before = await layerDirs();
  const { tar: archive } = await dockerLegacyArchive([
    { layers: Array(600).fill(layer), repoTags: ['probe/many:1'] },
  ]);
  const r = await d.request('POST', '/images/load?quiet=1', archive, { 'Content-Type': 'application/x-tar' });
  assert.match(r.body.toString(), /lists 600 layers; at most 500 are supported/);
  assert.equal(await layerDirs(), before);
  const images = (await d.docker(['images', '--format', '{{.Repository}}'])).stdout;
  assert.doesNotMatch(images, /probe\/many/);
});

test("an image with 130 layers (Berth builds past Docker's 125) still loads", async () => {
  const { tar: archive } = await dockerLegacyArchive([
    { layers: Array(130).fill(layer), repoTags: ['probe/deep:1'] },
  ]);
  const r = await d.request('POST', '/images/load?quiet=1', archive, { 'Content-Type': 'application/x-tar' });
  assert.equal(r.status, 200, r.body.toString());
  assert.doesNotMatch(r.body.toString(), /error/i);
  assert.match((await d.docker(['images', '--format', '{{.Repository}}'])).stdout, /probe\/deep/);
});

test('an ordinary two-layer image still pulls', async () => {
  const r = await d.docker(['pull', `127.0.0.1:${port}/fine:1`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const t = performance.now();
  assert.equal((await d.request('GET', '/_ping')).status, 200);
  assert.ok(performance.now() - t < 1000);
});
