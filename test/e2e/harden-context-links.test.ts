// Symlinks in the build context (issue 14 §7): links whose targets are absolute or climb out of
// the context travel in the context and are stored as links; a symlink below a copied folder
// is copied as a symlink with its target unchanged; a COPY/ADD source that is (or passes
// through) a symlink is followed with the context root (or the stage root for --from) acting
// as `/`, so no build can read a host file. Every case runs with the docker CLI (legacy
// builder) and the berth CLI; host canaries are checked to be unread and unchanged.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { makeTar } from '../helpers/tarballs.ts';

const LEGACY = { env: { DOCKER_BUILDKIT: '0' } };
const CLIENTS = ['docker', 'berth'] as const;
const daemon = useBusyboxDaemon();

/** A temp dir per file: `outside/` holds the host canaries, contexts are made next to it. */
let top = '';
let outside = '';
const CANARY = `HOST-CANARY-${randomBytes(6).toString('hex')}`;
let canaryStat: { ino: number; nlink: number; size: number; mtimeMs: number } | undefined;

before(async () => {
  top = await mkdtemp(path.join(os.tmpdir(), 'berth-links-'));
  outside = path.join(top, 'outside');
  await mkdir(outside);
  await writeFile(path.join(outside, 'canary.txt'), `${CANARY}\n`);
  // A host archive: ADD of a link to it must never unpack it.
  await writeFile(
    path.join(outside, 'evil.tar'),
    await makeTar([{ name: 'pwned.txt', body: `${CANARY}\n` }]),
  );
  // A host .dockerignore whose second line is not a valid pattern: an error quoting it, or
  // the Dockerfile going missing, would show that the daemon read it.
  await writeFile(path.join(outside, 'ignore.txt'), `Dockerfile\n${CANARY}-[\n`);
  // A host FIFO: opening it blocks until a writer comes, which never happens.
  execFileSync('mkfifo', [path.join(outside, 'fifo')]);
  const st = await stat(path.join(outside, 'canary.txt'));
  canaryStat = { ino: st.ino, nlink: st.nlink, size: st.size, mtimeMs: st.mtimeMs };
});
after(async () => {
  if (top) await rm(top, { recursive: true, force: true });
});

type Node = string | { link: string };

/** A context under `top`: files (string content) and symlinks (`{ link: target }`). */
async function context(name: string, nodes: Record<string, Node>): Promise<string> {
  const dir = path.join(top, name);
  await mkdir(dir);
  for (const [rel, v] of Object.entries(nodes)) {
    const p = path.join(dir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    if (typeof v === 'string') await writeFile(p, v);
    else await symlink(v.link, p);
  }
  return dir;
}

async function build(client: (typeof CLIENTS)[number], tag: string, dir: string) {
  const args = ['build', '-t', tag, dir];
  return client === 'docker' ? daemon.d.docker(args, LEGACY) : daemon.d.berth(args);
}

async function sh(tag: string, script: string): Promise<string> {
  return ok(await daemon.d.docker(['run', '--rm', tag, 'sh', '-c', script]));
}

/** The host canaries are where they were, unchanged, and nothing was added next to them. */
async function assertHostUntouched(): Promise<void> {
  assert.deepEqual((await readdir(outside)).sort(), ['canary.txt', 'evil.tar', 'fifo', 'ignore.txt']);
  assert.equal(await readFile(path.join(outside, 'ignore.txt'), 'utf8'), `Dockerfile\n${CANARY}-[\n`);
  assert.equal(await readFile(path.join(outside, 'canary.txt'), 'utf8'), `${CANARY}\n`);
  const st = await stat(path.join(outside, 'canary.txt'));
  assert.deepEqual({ ino: st.ino, nlink: st.nlink, size: st.size, mtimeMs: st.mtimeMs }, canaryStat);
}

/** A context tar with any entry types (tar-stream directly: the shared helper has no FIFOs). */
async function rawTar(
  entries: { name: string; type?: 'file' | 'symlink' | 'fifo'; body?: string; linkname?: string }[],
): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    pack.entry(
      { name: e.name, type, mode: 0o644, ...(e.linkname ? { linkname: e.linkname } : {}) },
      type === 'file' ? (e.body ?? '') : '',
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** POST /build with a bound of `ms` (a hang is a failure, not a 60 s wait). */
function postBuild(query: string, body: Buffer, ms: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: daemon.d.socket,
        method: 'POST',
        path: `/build?${query}`,
        headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length },
      },
      (res) => {
        const out: Buffer[] = [];
        res.on('data', (c: Buffer) => out.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(out).toString() }));
        res.on('error', reject);
      },
    );
    req.setTimeout(ms, () => req.destroy(new Error(`POST /build?${query}: no answer within ${ms} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** `/_ping` answers within a second. */
async function assertResponsive(): Promise<void> {
  const started = Date.now();
  const r = await daemon.d.request('GET', '/_ping');
  assert.equal(r.status, 200);
  assert.ok(Date.now() - started < 1000, `/_ping took ${Date.now() - started} ms`);
}

describe('build context symlinks', () => {
  test('links that point out of the context travel as links; COPY/ADD of a folder keeps them verbatim', async () => {
    const abs = path.join(outside, 'canary.txt');
    const dir = await context('keep', {
      Dockerfile: [
        'FROM busybox',
        'COPY dir/ /d/',
        'ADD dir /a/',
        'COPY . /all/',
        // The links are links in the step's root too, and following them there finds nothing.
        'RUN test -L /d/abs_link && test -L /d/rel_link && ! cat /d/abs_link /d/rel_link',
        '',
      ].join('\n'),
      '.dockerignore': 'dir/ignored_link\n',
      'dir/file.txt': 'inside\n',
      'dir/abs_link': { link: abs },
      'dir/rel_link': { link: '../../outside/canary.txt' },
      'dir/abs_dir': { link: outside },
      'dir/ignored_link': { link: '/etc' },
      'dir/in_link': { link: 'file.txt' },
      up: { link: '..' },
    });
    for (const client of CLIENTS) {
      const tag = `links-keep:${client}`;
      const r = await build(client, tag, dir);
      assert.equal(r.code, 0, `${client}: ${r.stderr}${r.stdout}`);
      for (const d of ['/d', '/a', '/all/dir']) {
        const out = await sh(
          tag,
          `cd ${d} && ls -A | sort && for l in abs_link rel_link abs_dir in_link; do test -L $l && readlink $l; done`,
        );
        assert.equal(
          out,
          [
            'abs_dir',
            'abs_link',
            'file.txt',
            'in_link',
            'rel_link',
            abs,
            '../../outside/canary.txt',
            outside,
            'file.txt',
            '',
          ].join('\n'),
          `${client} ${d}`,
        );
      }
      assert.equal(await sh(tag, 'readlink /all/up'), '..\n', client);
      // Nothing of the host file reached the image.
      assert.equal(await sh(tag, `grep -rsl ${CANARY} /d /a /all || true`), '', client);
    }
    await assertHostUntouched();
  });

  test('a COPY/ADD source that is a link is followed inside the context only', async () => {
    // The targets exist inside the context under the same names: that is what must be copied.
    const abs = path.join(outside, 'canary.txt');
    const dir = await context('follow', {
      Dockerfile: [
        'FROM busybox',
        'COPY abs_link /x',
        'COPY rel_link /y',
        'ADD abs_link /xa',
        'ADD rel_link /ya',
        'COPY abs_dir /z/',
        'COPY via/canary.txt /v',
        'COPY via/../outside/canary.txt /w',
        'ADD tar_link /t/',
        '',
      ].join('\n'),
      abs_link: { link: abs },
      rel_link: { link: '../outside/canary.txt' },
      abs_dir: { link: outside },
      via: { link: `../../../../../../../../..${outside}` },
      tar_link: { link: path.join(outside, 'evil.tar') },
      [`.${abs}`]: 'scoped-abs\n',
      'outside/canary.txt': 'scoped-rel\n',
      [`.${outside}/evil.tar`]: 'not an archive\n',
    });
    for (const client of CLIENTS) {
      const tag = `links-follow:${client}`;
      const r = await build(client, tag, dir);
      assert.equal(r.code, 0, `${client}: ${r.stderr}${r.stdout}`);
      const out = await sh(
        tag,
        'cat /x /y /xa /ya /z/canary.txt /v /w /t/tar_link; ls -A /z; ls -A /t; test -L /x || echo regular',
      );
      assert.equal(
        out,
        [
          'scoped-abs',
          'scoped-rel',
          'scoped-abs',
          'scoped-rel',
          'scoped-abs',
          'scoped-abs',
          'scoped-rel',
          'not an archive',
          'canary.txt',
          'evil.tar',
          'tar_link',
          'regular',
          '',
        ].join('\n'),
        client,
      );
      assert.doesNotMatch(out, new RegExp(CANARY), client);
    }
    await assertHostUntouched();
  });

  test('a link whose target is not inside the context is "not found", naming the source', async () => {
    const cases: [string, Node][] = [
      ['abs_link', { link: path.join(outside, 'canary.txt') }],
      ['rel_link', { link: '../../outside/canary.txt' }],
      ['deep/rel_link', { link: '../../../outside/canary.txt' }],
      ['tar_link', { link: path.join(outside, 'evil.tar') }],
    ];
    for (const [i, [name, node]] of cases.entries()) {
      for (const kind of ['COPY', 'ADD']) {
        const dir = await context(`missing-${i}-${kind}`, {
          Dockerfile: `FROM busybox\n${kind} ${name} /x/\n`,
          [name]: node,
        });
        for (const client of CLIENTS) {
          const r = await build(client, `links-missing:${client}`, dir);
          assert.notEqual(r.code, 0, `${client} ${kind} ${name}: built`);
          assert.match(`${r.stderr}${r.stdout}`, /not found/i, `${client} ${kind} ${name}`);
          assert.ok(`${r.stderr}${r.stdout}`.includes(`"${name}"`), `${client}: ${r.stderr}${r.stdout}`);
          // The message says why: the link is followed inside the context.
          assert.match(`${r.stderr}${r.stdout}`, /is a symbolic link to .*followed inside the build context/);
          assert.doesNotMatch(`${r.stderr}${r.stdout}`, new RegExp(CANARY));
        }
      }
    }
    await assertHostUntouched();
  });

  test('COPY --from follows links inside the stage root and keeps links below a copied folder', async () => {
    const abs = path.join(outside, 'canary.txt');
    const stage = [
      'FROM busybox AS a',
      `RUN mkdir -p /s /dd && echo staged > /s/f && ln -s /s /abs && ln -s ../../../../s /rel && ln -s ${abs} /dd/host && ln -s ../../../outside /dd/up && ln -s ${abs} /hostlink`,
    ];
    const good = await context('from-good', {
      Dockerfile: [
        ...stage,
        'FROM busybox',
        'COPY --from=a /abs/f /f1',
        'COPY --from=a /rel/f /f2',
        'COPY --from=a /dd/ /dd/',
        '',
      ].join('\n'),
    });
    const bad = await context('from-bad', {
      Dockerfile: [...stage, 'FROM busybox', 'COPY --from=a /hostlink /h', ''].join('\n'),
    });
    for (const client of CLIENTS) {
      const tag = `links-from:${client}`;
      const r = await build(client, tag, good);
      assert.equal(r.code, 0, `${client}: ${r.stderr}${r.stdout}`);
      assert.equal(
        await sh(tag, 'cat /f1 /f2; readlink /dd/host; readlink /dd/up; test -L /dd/host && echo link'),
        `staged\nstaged\n${abs}\n../../../outside\nlink\n`,
        client,
      );
      const b = await build(client, `links-from-bad:${client}`, bad);
      assert.notEqual(b.code, 0, `${client}: built`);
      assert.match(
        `${b.stderr}${b.stdout}`,
        /not found in a: "\/hostlink" \("hostlink" is a symbolic link to .*inside the filesystem of a/i,
        client,
      );
    }
    await assertHostUntouched();
  });

  test('an entry below a context link that climbs out is refused: nothing is written through it', async () => {
    const victim = await mkdtemp(path.join(top, 'victim-'));
    const rel = path.relative('/', victim);
    const cases: Parameters<typeof makeTar>[0][] = [
      [
        { name: 'Dockerfile', body: 'FROM busybox\n' },
        { name: 'l', type: 'symlink', linkname: `../../../../../../../../../${rel}` },
        { name: 'l/pwned', body: 'x' },
      ],
      [
        { name: 'Dockerfile', body: 'FROM busybox\n' },
        { name: 'd/', type: 'directory' },
        { name: 'd/l', type: 'symlink', linkname: victim },
        { name: 'd/l/pwned', body: 'x' },
      ],
      [
        // A directory replaced by a link: the later entry must not trust the earlier directory.
        { name: 'Dockerfile', body: 'FROM busybox\n' },
        { name: 'd/', type: 'directory' },
        { name: 'd', type: 'symlink', linkname: victim },
        { name: 'd/pwned', body: 'x' },
      ],
      [
        { name: 'Dockerfile', body: 'FROM busybox\n' },
        { name: 'l', type: 'symlink', linkname: victim },
        { name: 'h', type: 'link', linkname: 'l/x' },
      ],
    ];
    for (const entries of cases) {
      const r = await daemon.d.request('POST', '/build?t=links-hostile:1', await makeTar(entries), {
        'Content-Type': 'application/x-tar',
      });
      assert.equal(r.status, 400, r.body.toString());
      assert.match(JSON.parse(r.body.toString()).message, /refusing build context entry/);
    }
    assert.deepEqual(await readdir(victim), []);
    assert.ok((await lstat(victim)).isDirectory());
    await assertHostUntouched();
  });

  test('the daemon reads a .dockerignore only inside the context and only if it is a regular file', async () => {
    const dockerfile = { name: 'Dockerfile', body: 'FROM busybox\nCOPY . /ctx/\n' };
    const ignore = path.join(outside, 'ignore.txt');
    const followed: [string, Parameters<typeof rawTar>[0]][] = [
      ['abs', [dockerfile, { name: '.dockerignore', type: 'symlink', linkname: ignore }]],
      [
        'rel',
        [dockerfile, { name: '.dockerignore', type: 'symlink', linkname: `../../../../../../..${ignore}` }],
      ],
      ['own', [dockerfile, { name: 'Dockerfile.dockerignore', type: 'symlink', linkname: ignore }]],
      [
        'fifo',
        [dockerfile, { name: '.dockerignore', type: 'symlink', linkname: path.join(outside, 'fifo') }],
      ],
    ];
    for (const [name, entries] of followed) {
      const pending = postBuild(`t=links-ignore:${name}`, await rawTar(entries), 15_000);
      await assertResponsive();
      const r = await pending;
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      assert.doesNotMatch(r.text, /"error"/, name);
      assert.doesNotMatch(r.text, new RegExp(CANARY), name);
      // The link resolved to a missing file inside the context: no patterns, nothing pruned.
      const ls = await sh(`links-ignore:${name}`, 'ls -A /ctx');
      assert.match(ls, /^Dockerfile$/m, name);
    }
    // A FIFO inside the context is no ignore file: a clear 400, not a request that never ends.
    const pending = postBuild(
      't=links-ignore:ctxfifo',
      await rawTar([dockerfile, { name: '.dockerignore', type: 'fifo' }]),
      15_000,
    );
    await assertResponsive();
    const r = await pending;
    assert.equal(r.status, 400, r.text);
    assert.match(JSON.parse(r.text).message, /\.dockerignore.*not a regular file/);
    await assertHostUntouched();
  });

  test('ADD of a FIFO (or a link to one) never blocks the build: it is not an archive to sniff', async () => {
    const entries: Parameters<typeof rawTar>[0] = [
      { name: 'Dockerfile', body: 'FROM busybox\nADD f /x/\nADD l /y/\nCOPY f l /z/\n' },
      { name: 'f', type: 'fifo' },
      { name: 'l', type: 'symlink', linkname: '/f' },
    ];
    const pending = postBuild('t=links-fifo:1', await rawTar(entries), 15_000);
    await assertResponsive();
    const r = await pending;
    assert.equal(r.status, 200, r.text);
    assert.doesNotMatch(r.text, /"error"/);
    // Nothing of a FIFO is copied (as for one below a copied folder); the directories exist.
    assert.equal(await sh('links-fifo:1', 'ls -A /x /y /z | tr "\\n" " "'), '/x:  /y:  /z: ');
    await assertHostUntouched();
  });
});
