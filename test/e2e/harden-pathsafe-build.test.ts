// Issue 14 §1: `RUN --mount=type=bind` sources are resolved inside the build context or the
// stage root, symlinks included, and an rw bind works on a copy of the resolved content. The
// host is checked with canary files in a temp dir: nothing read (the build output lacks the
// canary's content), nothing written (no new file, content and link count unchanged).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeContext, useBusyboxDaemon } from '../helpers/e2e.ts';

const LEGACY = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 60_000 };
const SECRET = `host-canary-${process.pid}-${Date.now()}`;
const daemon = useBusyboxDaemon();
const dirs: string[] = [];
let canary = '';

before(async () => {
  canary = await mkdtemp(path.join(os.tmpdir(), 'berth-canary-'));
  dirs.push(canary);
  await writeFile(path.join(canary, 'shadow'), SECRET);
});
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function assertHostUntouched(): Promise<void> {
  assert.deepEqual(await readdir(canary), ['shadow'], 'a file appeared in the host canary dir');
  assert.equal(await readFile(path.join(canary, 'shadow'), 'utf8'), SECRET);
  assert.equal((await stat(path.join(canary, 'shadow'))).nlink, 1);
}

async function build(files: Record<string, string>, links: Record<string, string> = {}) {
  const ctx = await makeContext(files);
  dirs.push(ctx);
  for (const [name, target] of Object.entries(links)) {
    await mkdir(path.dirname(path.join(ctx, name)), { recursive: true });
    await symlink(target, path.join(ctx, name));
  }
  const r = await daemon.d.docker(['build', '--no-cache', ctx], LEGACY);
  return { ...r, out: r.stdout + r.stderr };
}

describe('RUN --mount=type=bind stays inside its root', () => {
  test('a context symlink to a host directory does not expose the host file', async () => {
    const r = await build(
      { Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=etc_link,target=/m head -c 60 /m/shadow\n' },
      { etc_link: canary },
    );
    assert.ok(!r.out.includes(SECRET), `the build read the host canary:\n${r.out}`);
    assert.notEqual(r.code, 0, 'the link names a path missing in the context, so the step fails');
    assert.match(r.out, /does not exist in the build context/);
    await assertHostUntouched();
  });

  test('links are followed inside the context: absolute targets and chains are re-rooted', async () => {
    const r = await build(
      {
        Dockerfile:
          'FROM busybox\nRUN --mount=type=bind,source=a,target=/m cat /m/f\n' +
          `RUN --mount=type=bind,source=abs/f,target=/f,rw cat /f && echo changed > /f\n`,
        'real/f': 'inside-the-context',
      },
      { a: 'b', b: '/real', abs: '/real' },
    );
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /inside-the-context/);
  });

  test('a stage symlink to a host directory is neither written nor read through', async () => {
    const stage = `FROM busybox AS a\nRUN ln -s ${canary} /dl && ln -s ${canary}/shadow /ds\nFROM busybox\n`;
    for (const run of [
      // The reproduction: creates the file on the host on the old code.
      'RUN --mount=type=bind,from=a,source=dl,target=/m,rw touch /m/pwned\n',
      'RUN --mount=type=bind,from=a,source=ds,target=/m,rw sh -c "echo x > /m"\n',
      'RUN --mount=type=bind,from=a,source=dl/shadow,target=/m cat /m\n',
    ]) {
      const r = await build({ Dockerfile: stage + run });
      assert.ok(!r.out.includes(SECRET), `the build read the host canary:\n${r.out}`);
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /bind source "d[ls][^"]*" does not exist in "a"/);
      await assertHostUntouched();
    }
  });

  test('a rw bind of a stage directory holding a link out copies the link, not its target', async () => {
    const r = await build({
      Dockerfile:
        `FROM busybox AS a\nRUN mkdir /d && ln -s ${canary}/shadow /d/s && ln -s ${canary} /d/dir\n` +
        'FROM busybox\n' +
        'RUN --mount=type=bind,from=a,source=d,target=/m,rw (echo x > /m/s; touch /m/dir/pwned; cat /m/s) 2>&1; true\n',
    });
    assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes(SECRET), `the build read the host canary:\n${r.out}`);
    await assertHostUntouched();
  });

  test('a rw bind copy keeps owners, modes and special files; writes stay in the copy', async () => {
    const r = await build({
      Dockerfile:
        'FROM busybox AS a\nRUN mkdir /d && echo orig > /d/f && chown 1234:5678 /d/f && chmod 640 /d/f && mkfifo /d/p\n' +
        'FROM busybox\n' +
        'RUN --mount=type=bind,from=a,source=d,target=/m,rw stat -c "%u:%g %a %F" /m/f /m/p && echo new > /m/f\n' +
        'RUN --mount=type=bind,from=a,source=d,target=/m cat /m/f\n',
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /1234:5678 640 regular file/);
    assert.match(r.out, /fifo/);
    assert.match(r.out, /orig/);
    assert.doesNotMatch(r.out, /^new$/m);
  });

  test('WORKDIR and VOLUME through a symlink to the host are created inside the image', async () => {
    const r = await build({
      Dockerfile:
        `FROM busybox\nRUN ln -s ${canary} /w\nWORKDIR /w/newdir\nRUN pwd && touch made-here\n` +
        'VOLUME /w/vol\nRUN ls /w/newdir\n',
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /made-here/);
    await assertHostUntouched();
  });

  test('bad numeric mount options are refused with a message naming them', async () => {
    for (const [opt, re] of [
      ['type=cache,target=/c,mode=rwx', /mode=rwx is not an octal file mode/],
      ['type=cache,target=/c,uid=-1', /uid=-1 is not a numeric user id/],
      ['type=tmpfs,target=/t,size=1m=x', /size=1m=x is not a size/],
    ] as const) {
      const r = await build({ Dockerfile: `FROM busybox\nRUN --mount=${opt} true\n` });
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, re);
    }
  });
});
