// Hostile and broken input: each case gets a clear error and leaves the store as it was.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { dockerLegacyArchive, makeTar, sha256 } from '../helpers/tarballs.ts';

let d: TestDaemon;
const outside = `/tmp/berth-hostile-${process.pid}`;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.cleanup();
  await fsp.rm(outside, { recursive: true, force: true });
  await fsp.rm(`${outside}-file`, { force: true });
});

async function storeState(): Promise<{ images: string; files: string[] }> {
  const images = (await d.request('GET', '/images/json')).body.toString();
  const walk = async (dir: string): Promise<string[]> => {
    const out: string[] = [];
    for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, e.name);
      out.push(path.relative(d.dataRoot, p));
      if (e.isDirectory() && !e.name.match(/^[a-f0-9]{64}$/)) out.push(...(await walk(p)));
    }
    return out;
  };
  const files = (await walk(d.dataRoot)).filter((f) => !f.startsWith('berthd.lock')).sort();
  return { images, files };
}

async function importRaw(body: Buffer, repo: string) {
  const r = await d.request('POST', `/images/create?fromSrc=-&repo=${repo}`, body, {
    'Content-Type': 'application/x-tar',
  });
  return {
    status: r.status,
    message: r.status >= 400 ? JSON.parse(r.body.toString()).message : r.body.toString(),
  };
}

describe('hostile layers are refused on import, nothing written', () => {
  const cases: [string, () => Promise<Buffer>, RegExp][] = [
    ['../ traversal', () => makeTar([{ name: '../escape', body: 'x' }]), /escape/i],
    ['nested traversal', () => makeTar([{ name: 'a/../../escape', body: 'x' }]), /escape/i],
    ['absolute path', () => makeTar([{ name: `${outside}-file`, body: 'x' }]), /absolute|escape/i],
    [
      'symlink then a file through it',
      () =>
        makeTar([
          { name: 'evil', type: 'symlink', linkname: outside },
          { name: 'evil/file', body: 'x' },
        ]),
      /symlink/i,
    ],
    [
      'symlink to .. then a file through it',
      () =>
        makeTar([
          { name: 'up', type: 'symlink', linkname: '..' },
          { name: 'up/file', body: 'x' },
        ]),
      /symlink/i,
    ],
    [
      'hard link out of the tree',
      () => makeTar([{ name: 'pw', type: 'link', linkname: '../../etc/passwd' }]),
      /escape|link/i,
    ],
  ];
  for (const [name, build, re] of cases) {
    test(name, async () => {
      await fsp.mkdir(outside, { recursive: true });
      const before = await storeState();
      const r = await importRaw(await build(), 'hostile/x');
      assert.equal(r.status, 400, r.message);
      assert.match(r.message, re);
      assert.deepEqual(await storeState(), before);
      assert.deepEqual(await fsp.readdir(outside), []);
      await assert.rejects(fsp.stat(`${outside}-file`));
    });
  }

  test('a truncated gzip layer', async () => {
    const gz = gzipSync(await makeTar([{ name: 'big', body: Buffer.alloc(100_000, 7) }]));
    const before = await storeState();
    const r = await importRaw(gz.subarray(0, gz.length - 40), 'hostile/gz');
    assert.equal(r.status, 400, r.message);
    assert.match(r.message, /gzip|unexpected end/i);
    assert.deepEqual(await storeState(), before);
  });
});

describe('broken archives on load', () => {
  test('manifest.json naming missing files', async () => {
    const tar = await makeTar([
      {
        name: 'manifest.json',
        body: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['m:1'], Layers: ['nope/layer.tar'] }]),
      },
      {
        name: 'cfg.json',
        body: JSON.stringify({
          os: 'linux',
          architecture: 'amd64',
          rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`] },
        }),
      },
    ]);
    const before = await storeState();
    const r = await d.berth(['load'], { input: tar });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /layer "nope\/layer.tar" named in the manifest is missing from the archive/);
    assert.deepEqual((await storeState()).images, before.images);
    const after = await d.restart();
    d = after;
    assert.deepEqual(await storeState(), before);
  });

  test('a layer whose content does not match the config diff ID', async () => {
    const layer = await makeTar([{ name: 'f', body: 'real' }]);
    const { tar } = await dockerLegacyArchive([{ layers: [layer], repoTags: ['mismatch:1'] }]);
    // Swap the layer bytes for different content of the same size.
    const evil = Buffer.from(tar);
    const at = evil.indexOf(Buffer.from('real'));
    evil.write('fake', at);
    const before = await storeState();
    const r = await d.berth(['load'], { input: evil });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not match its declared digest/);
    assert.equal((await storeState()).images, before.images);
  });

  test('a blob whose name is not its digest', async () => {
    const tar = await makeTar([
      { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
      { name: `blobs/sha256/${sha256('x')}`, body: 'not x' },
      { name: 'index.json', body: '{"schemaVersion":2,"manifests":[]}' },
    ]);
    const r = await d.berth(['load'], { input: tar });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not match its digest name/);
  });

  test('not an archive at all', async () => {
    const r = await d.berth(['load'], {
      input: Buffer.from('hello, this is not a tar file at all'.repeat(20)),
    });
    assert.equal(r.code, 1, JSON.stringify(r));
    assert.match(r.stderr, /invalid image archive/);
  });

  test('a client that disconnects mid-upload leaves the daemon up and the store clean', async () => {
    const net = await import('node:net');
    const before = await storeState();
    await new Promise<void>((resolve) => {
      const sock = net.connect(d.socket, () => {
        sock.write(
          'POST /images/load HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\nContent-Length: 10000000\r\n\r\n',
        );
        sock.write(Buffer.alloc(100_000, 1), () => {
          sock.destroy();
          resolve();
        });
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    const ping = await d.request('GET', '/_ping');
    assert.equal(ping.status, 200);
    assert.deepEqual(await storeState(), before);
  });

  test('malformed query and filter input', async () => {
    const r = await d.request('GET', '/images/json?filters=%7Bnot-json');
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body.toString()).message, /invalid filters/);
  });
});
