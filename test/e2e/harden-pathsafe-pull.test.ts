// Issue 14 §1 audit, registry digests: an image config's diff IDs name layer directories (the
// first chain ID is the first diff ID itself). A hostile registry serving
// `diff_ids: ["sha256:../../…/volumes/v/_data"]` made berthd take a volume a container had
// written for an existing layer, and its `meta.json` (link `../../..`) made the host's `/` the
// container's lower dir. The pull must fail naming the diff ID, and the host stay unreadable.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { makeTar, sha256 } from '../helpers/tarballs.ts';

const SECRET = `host-canary-${process.pid}-${Date.now()}`;
const daemon = useBusyboxDaemon();
let canary = '';
let server: http.Server | undefined;
let registry = '';

/** A loopback registry serving one image, `evil:latest`, with the given config. */
async function serveImage(config: object): Promise<void> {
  const layer = gzipSync(await makeTar([{ name: 'x', body: 'x' }]));
  const cfg = Buffer.from(JSON.stringify(config));
  const blobs = new Map([
    [`sha256:${sha256(layer)}`, layer],
    [`sha256:${sha256(cfg)}`, cfg],
  ]);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: cfg.length,
        digest: `sha256:${sha256(cfg)}`,
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: layer.length,
          digest: `sha256:${sha256(layer)}`,
        },
      ],
    }),
  );
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    const blob = /^\/v2\/evil\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url);
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    } else if (
      url === '/v2/evil/manifests/latest' ||
      url === `/v2/evil/manifests/sha256:${sha256(manifest)}`
    ) {
      res.writeHead(200, {
        'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json',
        'Docker-Content-Digest': `sha256:${sha256(manifest)}`,
        'Content-Length': manifest.length,
      });
      res.end(req.method === 'HEAD' ? undefined : manifest);
    } else if (blob && blobs.has(blob[1]!)) {
      const b = blobs.get(blob[1]!)!;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': b.length });
      res.end(req.method === 'HEAD' ? undefined : b);
    } else
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND"}]}');
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  canary = await mkdtemp(path.join(os.tmpdir(), 'berth-canary-'));
  await writeFile(path.join(canary, 'shadow'), SECRET);
});
after(async () => {
  server?.close();
  if (canary) await rm(canary, { recursive: true, force: true });
});

describe('pull from a registry with hostile diff IDs', () => {
  test('a diff ID that is a path is refused; a planted layer record is never used', async () => {
    // A container writes what looks like a layer record into a volume.
    const meta = JSON.stringify({ name: 'x', link: '../'.repeat(30), size: 0, labels: {} });
    ok(await daemon.d.docker(['volume', 'create', 'pathsafe-plant']));
    ok(
      await daemon.d.docker([
        'run',
        '--rm',
        '-e',
        `META=${meta}`,
        '-v',
        'pathsafe-plant:/d',
        'busybox',
        'sh',
        '-c',
        'printf %s "$META" > /d/meta.json',
      ]),
    );
    // `..` enough to reach `/` from both the layers and the blobs folder, then the volume.
    const diffId = `sha256:${'../'.repeat(20)}${daemon.d.dataRoot.slice(1)}/volumes/pathsafe-plant/_data`;
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    await serveImage({
      architecture: arch,
      os: 'linux',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
    });

    const pull = await daemon.d.docker(['pull', `${registry}/evil:latest`], { timeoutMs: 30_000 });
    assert.notEqual(pull.code, 0, `the pull succeeded: ${pull.stdout}`);
    assert.match(pull.stderr + pull.stdout, /invalid diff ID/);
    const images = ok(await daemon.d.docker(['images', '--format', '{{.Repository}}']));
    assert.doesNotMatch(images, /evil/);
    const r = await daemon.d.docker(['run', '--rm', `${registry}/evil:latest`, 'cat', `${canary}/shadow`], {
      timeoutMs: 30_000,
    });
    assert.ok(!(r.stdout + r.stderr).includes(SECRET), 'a container read the host through the planted layer');
    assert.deepEqual(await readdir(canary), ['shadow']);
    assert.equal(await readFile(path.join(canary, 'shadow'), 'utf8'), SECRET);
    // Nothing the daemon keeps points at the volume.
    assert.deepEqual(
      (await readdir(path.join(daemon.d.dataRoot, 'volumes', 'pathsafe-plant', '_data'))).sort(),
      ['meta.json'],
    );
  });
});
