// The daemon's handling of the Dockerfile and .dockerignore inside an extracted context.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { pruneBuildFiles, readContextDockerfile } from '../../../src/build/context/build-files.ts';
import { InvalidArgumentError } from '../../../src/errdefs/index.ts';

function tree(t: TestContext, files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bf-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [rel, body] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (body.startsWith('->')) fs.symlinkSync(body.slice(2), p);
    else fs.writeFileSync(p, body);
  }
  return dir;
}

describe('readContextDockerfile', () => {
  it('reads the default, falls back to lowercase, and reads -f paths', async (t) => {
    const dir = tree(t, { dockerfile: 'FROM lower\n', 'sub/Build.df': 'FROM sub\n' });
    assert.deepEqual(await readContextDockerfile(dir), {
      name: 'dockerfile',
      content: Buffer.from('FROM lower\n'),
    });
    assert.equal((await readContextDockerfile(dir, 'sub/Build.df')).content.toString(), 'FROM sub\n');
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM upper\n');
    assert.equal((await readContextDockerfile(dir, 'Dockerfile')).content.toString(), 'FROM upper\n');
  });

  it('never reads outside the context', async (t) => {
    const dir = tree(t, { Dockerfile: 'FROM x\n', esc: '->/etc/passwd', up: '->../../../../etc/passwd' });
    for (const name of ['../../../../etc/passwd', '/etc/passwd', 'esc', 'up']) {
      await assert.rejects(
        readContextDockerfile(dir, name),
        (err: unknown) =>
          err instanceof InvalidArgumentError &&
          err.message.startsWith(`Cannot locate specified Dockerfile: ${name} (`),
        name,
      );
    }
    await assert.rejects(
      readContextDockerfile(tree(t, {})),
      /Cannot locate specified Dockerfile: Dockerfile/,
    );
  });
});

describe('pruneBuildFiles', () => {
  it('removes the Dockerfile and .dockerignore only when the ignore file names them', async (t) => {
    const dir = tree(t, {
      Dockerfile: 'FROM x\n',
      '.dockerignore': 'Dockerfile\n.dockerignore\n',
      'a.txt': 'a',
    });
    assert.deepEqual((await pruneBuildFiles(dir, '')).sort(), ['.dockerignore', 'Dockerfile']);
    assert.deepEqual(fs.readdirSync(dir), ['a.txt']);

    const keep = tree(t, { Dockerfile: 'FROM x\n', '.dockerignore': '*.log\n' });
    assert.deepEqual(await pruneBuildFiles(keep, 'Dockerfile'), []);
    assert.deepEqual(fs.readdirSync(keep).sort(), ['.dockerignore', 'Dockerfile']);
    assert.deepEqual(await pruneBuildFiles(tree(t, { Dockerfile: '' }), ''), []);
  });

  it('hides a generated .dockerfile.<random> name, as the docker CLI arranges', async (t) => {
    const name = '.dockerfile.0123456789abcdef0123';
    const dir = tree(t, { [name]: 'FROM x\n', '.dockerignore': `.dockerignore\n${name}\n`, 'a.txt': 'a' });
    assert.deepEqual((await pruneBuildFiles(dir, name)).sort(), [name, '.dockerignore']);
    assert.deepEqual(fs.readdirSync(dir), ['a.txt']);
  });
});
