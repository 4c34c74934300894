// Build flags and the less common instructions: --output, --label, --add-host, --network,
// ADD from a URL (a loopback server this test runs) with --checksum, COPY --parents/--exclude,
// WORKDIR creation, and `system df` / `builder prune` showing the cache.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeContext, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const dirs: string[] = [];
let server: http.Server;
let base = '';
const PAYLOAD = 'downloaded over http\n';

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/file.txt') {
      res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
      res.end(PAYLOAD);
    } else {
      res.writeHead(404);
      res.end('no');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function ctxDir(files: Parameters<typeof makeContext>[0]): Promise<string> {
  const d = await makeContext(files);
  dirs.push(d);
  return d;
}

describe('build options', () => {
  test('--output type=local and type=tar export the files; --label lands in the config', async () => {
    const dir = await ctxDir({
      Dockerfile: 'FROM scratch\nCOPY out.txt /result/out.txt\n',
      'out.txt': 'exported\n',
    });
    const dest = path.join(dir, '..', `${path.basename(dir)}-out`);
    dirs.push(dest);
    const tarFile = `${dest}.tar`;
    dirs.push(tarFile);
    const r = await daemon.d.berth([
      'build',
      '--label',
      'org.example.built-by=berth',
      '-t',
      'exported',
      '-o',
      `type=local,dest=${dest}`,
      '-o',
      `type=tar,dest=${tarFile}`,
      dir,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(path.join(dest, 'result', 'out.txt'), 'utf8'), 'exported\n');
    const { execFileSync } = await import('node:child_process');
    assert.match(execFileSync('tar', ['-tf', tarFile]).toString(), /result\/out\.txt/);
    const labels = JSON.parse(
      ok(await daemon.d.docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', 'exported'])),
    );
    assert.deepEqual(labels, { 'org.example.built-by': 'berth' });
  });

  test('--add-host and --network none reach RUN', async () => {
    const dir = await ctxDir({
      Dockerfile:
        'FROM busybox\nRUN grep buildhost /etc/hosts > /hosts\nRUN --network=none ip link | grep -c "^[0-9]" > /links\n',
    });
    const r = await daemon.d.docker(['build', '--add-host', 'buildhost:10.1.2.3', '-t', 'hosts', dir], {
      env: { DOCKER_BUILDKIT: '0' },
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(
      ok(await daemon.d.docker(['run', '--rm', 'hosts', 'cat', '/hosts'])),
      /10\.1\.2\.3\s+buildhost/,
    );
    assert.equal(
      ok(await daemon.d.docker(['run', '--rm', 'hosts', 'cat', '/links'])).trim(),
      '1',
      'only loopback',
    );
  });

  test('ADD <url> with --checksum; a wrong checksum fails', async () => {
    const sum = `sha256:${createHash('sha256').update(PAYLOAD).digest('hex')}`;
    const dir = await ctxDir({ Dockerfile: `FROM busybox\nADD --checksum=${sum} ${base}/file.txt /dl/\n` });
    ok(await daemon.d.berth(['build', '-t', 'url', dir]));
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'url', 'cat', '/dl/file.txt'])), PAYLOAD);
    assert.equal(
      ok(await daemon.d.docker(['run', '--rm', 'url', 'stat', '-c', '%a', '/dl/file.txt'])).trim(),
      '600',
    );
    const bad = await ctxDir({
      Dockerfile: `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/file.txt /dl/\n`,
    });
    const r = await daemon.d.berth(['build', bad]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /checksum mismatch/);
    const missing = await ctxDir({ Dockerfile: `FROM busybox\nADD ${base}/nope /x\n` });
    const m = await daemon.d.berth(['build', missing]);
    assert.notEqual(m.code, 0);
    assert.match(m.stderr, /404/);
  });

  test('COPY --parents and --exclude; WORKDIR is created', async () => {
    const dir = await ctxDir({
      Dockerfile: [
        'FROM busybox',
        'COPY --parents src/*/main.c /p/',
        'COPY --exclude=*.log logs/ /l/',
        'WORKDIR /made/here',
        'RUN pwd > /wd',
        '',
      ].join('\n'),
      'src/a/main.c': 'a\n',
      'src/b/main.c': 'b\n',
      'logs/keep.txt': 'k\n',
      'logs/drop.log': 'd\n',
    });
    ok(await daemon.d.berth(['build', '-t', 'paths', dir]));
    const out = ok(
      await daemon.d.docker(['run', '--rm', 'paths', 'sh', '-c', 'find /p /l -type f | sort; cat /wd']),
    );
    assert.equal(out, '/l/keep.txt\n/p/src/a/main.c\n/p/src/b/main.c\n/made/here\n');
  });

  test('system df lists the build cache; builder prune reclaims it', async () => {
    const dir = await ctxDir({
      Dockerfile: 'FROM busybox\nRUN head -c 300000 /dev/urandom > /blob\nENV X=1\n',
    });
    ok(await daemon.d.berth(['build', '-t', 'dfcache', dir]));
    const df = ok(await daemon.d.docker(['system', 'df']));
    assert.match(df, /Build Cache\s+[1-9]/);
    const v = JSON.parse((await daemon.d.request('GET', '/system/df')).body.toString());
    assert.ok(
      v.BuildCache.some(
        (c: { Description: string; Size: number }) =>
          /head -c 300000/.test(c.Description) && c.Size >= 300000,
      ),
    );
    // Once the image is gone, only the cache holds the 300 kB layer.
    ok(await daemon.d.docker(['rmi', 'dfcache']));
    const pruned = ok(await daemon.d.berth(['builder', 'prune', '-af']));
    assert.match(pruned, /Total reclaimed space: [1-9]/);
    const after = JSON.parse((await daemon.d.request('GET', '/system/df')).body.toString());
    assert.equal(after.BuildCache.length, 0);
  });
});
