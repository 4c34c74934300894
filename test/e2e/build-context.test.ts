// The build context end to end: hostile context tars refused with a 400 naming the entry, the
// Dockerfile and .dockerignore dropped before COPY when the .dockerignore names them, and a
// Dockerfile outside the context (docker CLI and berth CLI alike).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { useContextDirs, ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { makeTar } from '../helpers/tarballs.ts';

const LEGACY = { env: { DOCKER_BUILDKIT: '0' } };
const daemon = useBusyboxDaemon();
const { ctxDir, dirs } = useContextDirs();

async function listCtx(tag: string): Promise<string[]> {
  const out = ok(await daemon.d.docker(['run', '--rm', tag, 'sh', '-c', 'cd /ctx && find . | sort']));
  return out.trim().split('\n');
}

async function buildBoth(tagBase: string, args: string[]): Promise<string[]> {
  const tags: string[] = [];
  for (const client of ['docker', 'berth'] as const) {
    const tag = `${tagBase}:${client}`;
    const full = ['build', '-t', tag, ...args];
    const r = client === 'docker' ? await daemon.d.docker(full, LEGACY) : await daemon.d.berth(full);
    assert.equal(r.code, 0, `${client}: ${r.stderr}${r.stdout}`);
    tags.push(tag);
  }
  return tags;
}

describe('build context', () => {
  test('hostile context tars are refused with a 400 naming the entry; nothing lands outside', async () => {
    const dataRootBefore = await readdir(daemon.d.dataRoot);
    const cases: [Parameters<typeof makeTar>[0], RegExp][] = [
      [
        [{ name: '../../../../tmp/berth-escape', body: 'x' }],
        /"\.\.\/\.\.\/\.\.\/\.\.\/tmp\/berth-escape".*escapes/,
      ],
      [
        [
          { name: 'Dockerfile', body: 'FROM busybox\n' },
          { name: 'l', type: 'symlink', linkname: '/tmp' },
          { name: 'l/berth-escape', body: 'x' },
        ],
        /"l\/berth-escape".*parent "l" is a symlink/,
      ],
      [[{ name: 'h', type: 'link', linkname: '../../../../etc/passwd' }], /"h".*hard link target escapes/],
      [
        [
          { name: 'd/', type: 'directory' },
          // A link that climbs out is kept as a link (Docker does); writing through it is not.
          { name: 'd/s', type: 'symlink', linkname: '../../../../../../tmp' },
          { name: 'd/s/berth-escape', body: 'x' },
        ],
        /"d\/s\/berth-escape".*parent "d\/s" is a symlink/,
      ],
    ];
    for (const [entries, message] of cases) {
      const r = await daemon.d.request('POST', '/build?t=hostile:1', await makeTar(entries), {
        'Content-Type': 'application/x-tar',
      });
      assert.equal(r.status, 400, r.body.toString());
      assert.match(JSON.parse(r.body.toString()).message, message);
    }
    await assert.rejects(readdir('/tmp/berth-escape'), /ENOENT/);
    assert.deepEqual(await readdir(daemon.d.dataRoot), dataRootBefore);
    // The half-extracted context directories were removed.
    const tmp = await readdir(path.join(daemon.d.dataRoot, 'build', 'tmp'));
    assert.deepEqual(
      tmp.filter((n) => n.startsWith('ctx-')),
      [],
    );
    const missing = await daemon.d.request('POST', '/build?dockerfile=../../etc/passwd', await makeTar([]), {
      'Content-Type': 'application/x-tar',
    });
    assert.equal(missing.status, 400);
    assert.match(
      JSON.parse(missing.body.toString()).message,
      /Cannot locate specified Dockerfile: \.\.\/\.\.\/etc\/passwd/,
    );
  });

  test('contexts compressed with gzip, bzip2 or xz are accepted, as the Engine API documents', async () => {
    const tar = await makeTar([
      { name: 'Dockerfile', body: 'FROM busybox\nCOPY f /f\n' },
      { name: 'f', body: 'compressed\n' },
    ]);
    for (const tool of ['gzip', 'bzip2', 'xz']) {
      const body = execFileSync(tool, ['-c'], { input: tar });
      const r = await daemon.d.request('POST', `/build?t=packed:${tool}`, body, {
        'Content-Type': 'application/x-tar',
      });
      assert.equal(r.status, 200, r.body.toString());
      assert.doesNotMatch(r.body.toString(), /"error"/, tool);
      const out = ok(await daemon.d.docker(['run', '--rm', `packed:${tool}`, 'cat', '/f']));
      assert.equal(out, 'compressed\n', tool);
    }
  });

  test('a .dockerignore that names the Dockerfile and itself keeps both out of COPY', async () => {
    const dir = await ctxDir({
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\n',
      '.dockerignore': 'Dockerfile\n.dockerignore\n*.tmp\nbuild\n!build/keep\n',
      'a.txt': 'a\n',
      'x.tmp': 't\n',
      'build/drop': 'd\n',
      'build/keep/k': 'k\n',
    });
    for (const tag of await buildBoth('selfignore', [dir])) {
      assert.deepEqual(
        await listCtx(tag),
        ['.', './a.txt', './build', './build/keep', './build/keep/k'],
        tag,
      );
    }
  });

  test('a Dockerfile outside the context is sent under a hidden name that COPY never sees', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'berth-df-'));
    dirs.push(outside);
    const dockerfile = path.join(outside, 'Dockerfile.out');
    await writeFile(dockerfile, 'FROM busybox\nCOPY . /ctx/\n');
    const dir = await ctxDir({ 'a.txt': 'a\n' });
    for (const tag of await buildBoth('outside', ['-f', dockerfile, dir])) {
      assert.deepEqual(await listCtx(tag), ['.', './a.txt'], tag);
    }
    // With a .dockerignore of its own, that one is kept (it does not name itself).
    await writeFile(path.join(dir, '.dockerignore'), 'b.txt\n');
    await writeFile(path.join(dir, 'b.txt'), 'b\n');
    for (const tag of await buildBoth('outside2', ['-f', dockerfile, dir])) {
      assert.deepEqual(await listCtx(tag), ['.', './.dockerignore', './a.txt'], tag);
    }
  });
});
