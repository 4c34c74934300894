// Bad build input: each a clear error naming what is wrong (and the Dockerfile line), no image
// tagged, nothing written outside the build's own directories.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { makeContext, ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { makeTar } from '../helpers/tarballs.ts';

const daemon = useBusyboxDaemon();
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function failBuild(dockerfile: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await makeContext({ Dockerfile: dockerfile, ...files });
  dirs.push(dir);
  const r = await daemon.d.berth(['build', '-t', 'shouldnotexist', dir]);
  assert.notEqual(r.code, 0, `expected a failure for:\n${dockerfile}`);
  const d = await daemon.d.docker(['build', '-t', 'shouldnotexist', dir], { env: { DOCKER_BUILDKIT: '0' } });
  assert.notEqual(d.code, 0);
  return `${r.stderr}\n${d.stderr}${d.stdout}`;
}

describe('bad build input', () => {
  test('Dockerfile syntax errors name the line', async () => {
    assert.match(
      await failBuild('FROM busybox\nRUN true\n\nRUNN echo\n'),
      /unknown instruction: RUNN.*|line 4|Dockerfile:4/i,
    );
    assert.match(await failBuild('FROM busybox\nRUN <<EOF\necho never ends\n'), /heredoc|EOF/i);
    assert.match(await failBuild('FROM busybox\nSHELL [\'/bin/sh\', "-c"]\n'), /SHELL|JSON/i);
    assert.match(await failBuild('RUN true\nFROM busybox\n'), /FROM|stage/i);
    assert.match(await failBuild('FROM busybox\nCOPY --bogus=1 a /a\n', { a: 'a' }), /bogus/);
  });

  test('COPY of a missing file, of ../outside, --from an unknown stage, cyclic stages', async () => {
    assert.match(await failBuild('FROM busybox\nCOPY missing.txt /x\n'), /missing\.txt/);
    assert.match(await failBuild('FROM busybox\nCOPY ../outside /x\n'), /outside/);
    assert.match(await failBuild('FROM busybox\nCOPY --from=nosuchstage /x /x\n'), /nosuchstage/);
    assert.match(
      await failBuild('FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n'),
      /circular dependency/,
    );
    assert.match(await failBuild('FROM nosuchimage:1\n'), /nosuchimage/);
    const ls = ok(await daemon.d.docker(['images', '--format', '{{.Repository}}']));
    assert.doesNotMatch(ls, /shouldnotexist/);
  });

  test('a context tar with hostile paths is refused and writes nothing outside', async () => {
    const outside = `/tmp/berth-escape-${process.pid}`;
    await rm(outside, { force: true });
    for (const entries of [
      [
        { name: 'Dockerfile', body: 'FROM busybox\nCOPY . /c\n' },
        { name: `../../../..${outside}`, body: 'x' },
      ],
      [
        { name: 'Dockerfile', body: 'FROM busybox\nCOPY . /c\n' },
        { name: 'link', type: 'symlink' as const, linkname: '/tmp' },
        { name: `link/berth-escape-${process.pid}`, body: 'x' },
      ],
    ]) {
      const tar = await makeTar(entries);
      const r = await daemon.d.request('POST', '/build?t=hostile', tar, {
        'Content-Type': 'application/x-tar',
      });
      const text = r.body.toString();
      assert.ok(r.status >= 400 || /error/.test(text), `refused: ${r.status} ${text}`);
      assert.equal(existsSync(outside), false, 'nothing written outside the context dir');
    }
    const ls = ok(await daemon.d.docker(['images', '--format', '{{.Repository}}']));
    assert.doesNotMatch(ls, /hostile/);
  });

  test('bad flags and parameters', async () => {
    const dir = await makeContext({ Dockerfile: 'FROM busybox\n' });
    dirs.push(dir);
    const r = await daemon.d.berth(['build', '--bogus', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bogus/);
    const badTag = await daemon.d.berth(['build', '-t', 'UPPER:case', dir]);
    assert.notEqual(badTag.code, 0);
    assert.match(badTag.stderr, /UPPER|reference|invalid/i);
    const badArgs = await daemon.d.request(
      'POST',
      '/build?buildargs=notjson',
      await makeTar([{ name: 'Dockerfile', body: 'FROM busybox\n' }]),
    );
    assert.equal(badArgs.status, 400);
    assert.match(badArgs.body.toString(), /buildargs/);
  });
});
