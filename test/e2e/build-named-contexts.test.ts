// Named build contexts (`berth build --build-context NAME=VALUE`, as docker buildx): FROM,
// `COPY --from` and `RUN --mount=from=` read a local directory or an image named on the command
// line; the named directory is its own confined root (no `..`, symlinks resolve inside it), the
// main context never sees it, and the forms Berth cannot serve are refused naming what works.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { useContextDirs, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const { ctxDir } = useContextDirs();

const run = async (image: string, cmd: string) =>
  ok(await h.d.docker(['run', '--rm', image, 'sh', '-c', cmd]));

test('a local directory: COPY --from, RUN --mount=from, FROM as a root filesystem; the main context does not hold it', async () => {
  const assets = await ctxDir({
    'hello.txt': 'hello from assets\n',
    'sub/deep.txt': 'deep\n',
    '.dockerignore': 'ignored.txt\n',
    'ignored.txt': 'no\n',
  });
  const rootfs = await ctxDir({ marker: 'root marker\n' });
  const main = await ctxDir({
    Dockerfile: [
      'FROM rootfs AS r',
      'FROM busybox',
      'COPY --from=assets hello.txt /copied.txt',
      'COPY --from=assets sub /sub',
      'COPY --from=r /marker /marker',
      'RUN --mount=from=assets,target=/a cat /a/hello.txt > /mounted.txt; ls /a > /listing.txt',
      'COPY . /ctx',
      '',
    ].join('\n'),
    'main.txt': 'main\n',
  });
  const r = await h.d.berth([
    'build',
    '--progress=plain',
    '-t',
    'named-local',
    '--build-context',
    `assets=${assets}`,
    '--build-context',
    `rootfs=${rootfs}`,
    main,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    await run('named-local', 'cat /copied.txt /sub/deep.txt /marker /mounted.txt'),
    'hello from assets\ndeep\nroot marker\nhello from assets\n',
  );
  // The named context's own .dockerignore applied; the main context is only the main files.
  assert.doesNotMatch(await run('named-local', 'cat /listing.txt'), /ignored\.txt/);
  assert.equal(await run('named-local', 'ls -A /ctx'), 'Dockerfile\nmain.txt\n');
  // A change in the named directory invalidates the COPY from it ...
  await writeFile(path.join(assets, 'hello.txt'), 'changed\n');
  ok(
    await h.d.berth([
      'build',
      '-q',
      '-t',
      'named-local',
      '--build-context',
      `assets=${assets}`,
      '--build-context',
      `rootfs=${rootfs}`,
      main,
    ]),
  );
  // ... and the RUN that bind-mounts it (the step's cache key holds the mount's content).
  assert.equal(await run('named-local', 'cat /copied.txt /mounted.txt'), 'changed\nchanged\n');
});

test('docker-image://: FROM and COPY --from read the named image; a stage of the same name wins', async () => {
  const main = await ctxDir({
    Dockerfile: [
      'FROM busybox AS tool',
      'RUN echo from-stage > /who',
      'FROM base',
      'COPY --from=img /bin/busybox /copied-busybox',
      'COPY --from=tool /who /who',
      '',
    ].join('\n'),
  });
  const r = await h.d.berth([
    'build',
    '-q',
    '-t',
    'named-image',
    '--build-context',
    'base=docker-image://busybox',
    '--build-context',
    'img=docker-image://busybox:latest',
    '--build-context',
    'tool=docker-image://no-such-image:never',
    main,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await run('named-image', 'test -x /copied-busybox && cat /who'), 'from-stage\n');
});

test('confinement: .. and symlinks cannot leave the named directory', async () => {
  const outside = await ctxDir({ 'secret.txt': 'outside\n' });
  const assets = await ctxDir({ 'ok.txt': 'ok\n' });
  await symlink('/etc', path.join(assets, 'etc-link'));
  await symlink(path.join(outside, 'secret.txt'), path.join(assets, 'abs-link'));
  await mkdir(path.join(assets, 'd'));
  await symlink('../../../../../../..' + outside, path.join(assets, 'd', 'up-link'));
  const build = async (copy: string) => {
    const main = await ctxDir({ Dockerfile: `FROM busybox\n${copy}\n` });
    return h.d.berth(['build', '-q', '-t', 'named-confined', '--build-context', `assets=${assets}`, main]);
  };
  for (const copy of [
    'COPY --from=assets ../secret.txt /x',
    'COPY --from=assets etc-link/passwd /x',
    'COPY --from=assets d/up-link/secret.txt /x',
  ]) {
    const r = await build(copy);
    assert.notEqual(r.code, 0, `${copy} must fail`);
    assert.match(r.stderr, /file not found in the named context assets/, copy);
  }
  // A link to a file inside the host's /: followed inside the named root, where it is missing.
  const abs = await build('COPY --from=assets abs-link /x');
  assert.notEqual(abs.code, 0);
  assert.match(abs.stderr, /named context assets/);
  // The same link copied as a link is harmless and the build still works for real files.
  ok(await build('COPY --from=assets ok.txt /ok.txt'));
  assert.equal(await run('named-confined', 'cat /ok.txt'), 'ok\n');
});

test('refusals: other schemes, missing directories, bad names; a hostile namedcontexts parameter is a 400', async () => {
  const main = await ctxDir({ Dockerfile: 'FROM busybox\n' });
  const cases: [string, RegExp][] = [
    [
      'src=https://github.com/x/y.git',
      /named context "src": "https:\/\/github\.com\/x\/y\.git" is not supported: use a local directory or docker-image:\/\/REF/,
    ],
    ['src=oci-layout:///tmp/x', /is not supported/],
    ['src=/no/such/dir', /named context "src": directory \/no\/such\/dir not found/],
    ['bad name=.', /invalid named context name "bad name"/],
    ['novalue', /invalid --build-context "novalue": use NAME=PATH/],
  ];
  for (const [flag, re] of cases) {
    const r = await h.d.berth(['build', '--build-context', flag, main]);
    assert.equal(r.code, 125, `${flag}: ${r.stderr}`);
    assert.match(r.stderr, re, flag);
  }
  const { tarOfFiles } = await import('../../src/archive/index.ts');
  const tar = tarOfFiles([{ name: 'Dockerfile', content: Buffer.from('FROM busybox\n'), mode: 0o644 }]);
  for (const param of [
    '{"x":{"dir":"../../etc"}}',
    '{"x":{"dir":"Dockerfile"}}',
    '{"x":{"image":"UPPER::bad"}}',
    '[1]',
  ]) {
    const res = await h.d.request('POST', `/build?namedcontexts=${encodeURIComponent(param)}`, tar, {
      'Content-Type': 'application/x-tar',
    });
    assert.equal(res.status, 400, `${param}: ${res.body.toString()}`);
    assert.match(res.body.toString(), /named ?context/i);
  }
  // A dir spec naming a symlink in the tar (to a real directory) is refused too.
  const ns = `.berth-named.${'a'.repeat(20)}`;
  const linked = await ctxDir({ Dockerfile: 'FROM busybox\nCOPY --from=x . /\n', 'real/f': 'f\n' });
  await mkdir(path.join(linked, ns));
  await symlink('../real', path.join(linked, ns, '0'));
  const { packDirectory } = await import('../../src/archive/index.ts');
  const chunks: Buffer[] = [];
  for await (const c of packDirectory(linked)) chunks.push(c as Buffer);
  const res = await h.d.request(
    'POST',
    `/build?namedcontexts=${encodeURIComponent(JSON.stringify({ x: { dir: `${ns}/0` } }))}`,
    Buffer.concat(chunks),
    { 'Content-Type': 'application/x-tar' },
  );
  assert.equal(res.status, 400, res.body.toString());
  assert.match(
    (JSON.parse(res.body.toString()) as { message: string }).message,
    /named context "x": .* is not a directory in the build context tar/,
  );
});
