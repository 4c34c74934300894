// The CLI side of build: packBuildContext (a context directory → the POST /build tar) and
// contextFromStdin (`build -`).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { extractContext } from '../../../src/build/context/extract.ts';
import { contextFromStdin, packBuildContext } from '../../../src/cli/build-context.ts';
import { CliError } from '../../../src/cli/context.ts';
import { makeTar } from '../../helpers/tarballs.ts';

interface Got {
  readonly type: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly body: string;
}

async function entries(stream: Readable): Promise<Map<string, Got>> {
  const out = new Map<string, Got>();
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      body.on('end', () => {
        out.set(h.name.replace(/\/$/, ''), {
          type: h.type ?? 'file',
          uid: h.uid ?? -1,
          gid: h.gid ?? -1,
          mode: h.mode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  stream.pipe(ex);
  await done;
  return out;
}

function tree(t: TestContext, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pack-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [rel, body] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (rel.endsWith('/')) fs.mkdirSync(p, { recursive: true });
    else fs.writeFileSync(p, body);
  }
  return dir;
}

describe('packBuildContext', () => {
  it('leaves out ignored files, keeps exceptions, always sends the Dockerfile and .dockerignore', async (t) => {
    const dir = tree(t, {
      Dockerfile: 'FROM scratch\n',
      '.dockerignore':
        '*.md\n!README.md\nsecrets\nnode_modules\n!node_modules/keep\nDockerfile\n.dockerignore\n',
      'README.md': 'readme',
      'CHANGES.md': 'changes',
      'secrets/key': 'k',
      'node_modules/a/index.js': 'a',
      'node_modules/keep/x.js': 'kept',
      'src/app.js': 'app',
      'src/doc.md': 'nested md is not matched by *.md',
      'empty/': '',
    });
    const { stream, dockerfileInContext } = packBuildContext(dir, '');
    assert.equal(dockerfileInContext, 'Dockerfile');
    const got = await entries(stream);
    assert.deepEqual([...got.keys()].sort(), [
      '.dockerignore',
      'Dockerfile',
      'README.md',
      'empty',
      'node_modules/keep',
      'node_modules/keep/x.js',
      'src',
      'src/app.js',
      'src/doc.md',
    ]);
    assert.equal(got.get('node_modules/keep/x.js')?.body, 'kept');
    for (const [name, e] of got) assert.deepEqual([e.uid, e.gid], [0, 0], `${name} owned by 0:0`);
  });

  it('a Dockerfile in an ignored subdirectory is still sent; -f is relative to the context', async (t) => {
    const dir = tree(t, {
      'build/app.Dockerfile': 'FROM scratch\n',
      'build/other': 'x',
      '.dockerignore': 'build\n',
    });
    const { stream, dockerfileInContext } = packBuildContext(dir, 'build/app.Dockerfile');
    assert.equal(dockerfileInContext, 'build/app.Dockerfile');
    const got = await entries(stream);
    assert.deepEqual([...got.keys()].sort(), ['.dockerignore', 'build/app.Dockerfile']);
  });

  it('prefers <Dockerfile>.dockerignore over the root .dockerignore', async (t) => {
    const dir = tree(t, {
      'app.Dockerfile': 'FROM scratch\n',
      'app.Dockerfile.dockerignore': 'a.txt\n',
      '.dockerignore': 'b.txt\n',
      'a.txt': 'a',
      'b.txt': 'b',
    });
    const got = await entries(packBuildContext(dir, 'app.Dockerfile').stream);
    assert.equal(got.has('a.txt'), false);
    assert.equal(got.has('b.txt'), true);
  });

  it('a Dockerfile outside the context travels as .dockerfile.<random>, hidden by the sent .dockerignore', async (t) => {
    const outside = tree(t, { 'Dockerfile.out': 'FROM scratch\nCOPY . /\n' });
    const dir = tree(t, { 'a.txt': 'a', '.dockerignore': 'ignored.txt', 'ignored.txt': 'no' });
    const { stream, dockerfileInContext } = packBuildContext(dir, path.join(outside, 'Dockerfile.out'));
    assert.match(dockerfileInContext, /^\.dockerfile\.[0-9a-f]{20}$/);
    const got = await entries(stream);
    assert.deepEqual([...got.keys()].sort(), ['.dockerignore', dockerfileInContext, 'a.txt'].sort());
    assert.equal(got.get(dockerfileInContext)?.body, 'FROM scratch\nCOPY . /\n');
    assert.equal(got.get('.dockerignore')?.body, `ignored.txt\n${dockerfileInContext}\n`);
  });

  it('a Dockerfile from stdin with a directory context, and no .dockerignore', async (t) => {
    const dir = tree(t, { 'a.txt': 'a' });
    const { stream, dockerfileInContext } = packBuildContext(dir, '-', {
      dockerfileContent: Buffer.from('FROM scratch\n'),
    });
    const got = await entries(stream);
    assert.equal(got.get(dockerfileInContext)?.body, 'FROM scratch\n');
    assert.equal(got.get('.dockerignore')?.body, `.dockerignore\n${dockerfileInContext}\n`);
    assert.equal(got.get('a.txt')?.body, 'a');
  });

  it('fails like docker when the context or the Dockerfile is missing, or a pattern is malformed', (t) => {
    const dir = tree(t, { 'a.txt': 'a' });
    assert.throws(
      () => packBuildContext(path.join(dir, 'nope'), ''),
      (e: unknown) => e instanceof CliError && /path ".*nope" not found/.test(e.message),
    );
    assert.throws(
      () => packBuildContext(dir, ''),
      /unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat .*Dockerfile: no such file/,
    );
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'a[\n');
    assert.throws(() => packBuildContext(dir, ''), /error checking context: .*"a\["/);
  });

  it('round-trips through extractContext', async (t) => {
    const dir = tree(t, {
      Dockerfile: 'FROM scratch\n',
      'sub/x': 'x',
      '.dockerignore': 'sub/y\n',
      'sub/y': 'y',
    });
    fs.symlinkSync('x', path.join(dir, 'sub/l'));
    // Links out of the context travel as links, as the docker CLI sends them; ignored ones do not.
    fs.symlinkSync('/etc/passwd', path.join(dir, 'sub/abs'));
    fs.symlinkSync('../../../outside', path.join(dir, 'sub/up'));
    fs.symlinkSync('/etc', path.join(dir, 'sub/y-link'));
    fs.appendFileSync(path.join(dir, '.dockerignore'), 'sub/y-link\n');
    const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pack-dest-'));
    t.after(() => fs.rmSync(dest, { recursive: true, force: true }));
    const r = await extractContext(packBuildContext(dir, '').stream, dest);
    assert.equal(r.files, 7); // .dockerignore, Dockerfile, sub, sub/abs, sub/l, sub/up, sub/x
    assert.equal(fs.readlinkSync(path.join(dest, 'sub/l')), 'x');
    assert.equal(fs.readlinkSync(path.join(dest, 'sub/abs')), '/etc/passwd');
    assert.equal(fs.readlinkSync(path.join(dest, 'sub/up')), '../../../outside');
    assert.equal(fs.existsSync(path.join(dest, 'sub/y')), false);
    assert.equal(fs.lstatSync(path.join(dest, 'sub/y-link'), { throwIfNoEntry: false }), undefined);
  });
});

describe('contextFromStdin', () => {
  it('passes a tar or gzip tar through untouched', async () => {
    const plain = await makeTar([
      { name: 'Dockerfile', body: 'FROM scratch\n' },
      { name: 'big', body: Buffer.alloc(200_000, 1) },
    ]);
    for (const input of [plain, gzipSync(plain)]) {
      for (const chunks of [
        [input.subarray(0, 100), input.subarray(100, 700), input.subarray(700)],
        [input],
      ]) {
        const { stream, dockerfileInContext, archive } = await contextFromStdin(
          Readable.from(chunks, { objectMode: false }),
        );
        assert.equal(dockerfileInContext, 'Dockerfile');
        assert.equal(archive, true);
        const out: Buffer[] = [];
        for await (const c of stream) out.push(c as Buffer);
        assert.ok(Buffer.concat(out).equals(input));
      }
    }
  });

  it('turns a Dockerfile alone into a one-file context', async () => {
    const text = `FROM scratch\n${'# padding\n'.repeat(100)}`;
    const { stream, dockerfileInContext, archive } = await contextFromStdin(
      Readable.from([Buffer.from(text)], { objectMode: false }),
    );
    assert.equal(dockerfileInContext, 'Dockerfile');
    assert.equal(archive, false);
    const got = await entries(stream);
    assert.deepEqual([...got.keys()], ['Dockerfile']);
    assert.equal(got.get('Dockerfile')?.body, text);
    const short = await contextFromStdin(Readable.from([Buffer.from('FROM a\n')], { objectMode: false }));
    assert.equal((await entries(short.stream)).get('Dockerfile')?.body, 'FROM a\n');
  });
});
