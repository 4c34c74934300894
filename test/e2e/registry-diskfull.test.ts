// Disk full during a pull: a daemon whose data root is a 32 MB tmpfs pulls a 48 MB image from a
// loopback registry. The pull fails naming the lack of space, no image or tag is left, the
// daemon restarts on that store, and a small pull then works.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { busyboxTar } from '../helpers/fixtures.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const source = useBusyboxDaemon();
let reg: TestRegistry;
let small: TestDaemon | undefined;

before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await small?.cleanup();
  await reg?.stop();
});

describe('disk full', () => {
  test('a pull that fills the disk fails cleanly and leaves no partial image', async () => {
    const d = source.d;
    const dir = await fsp.mkdtemp(path.join(d.dir, 'big-'));
    await fsp.writeFile(path.join(dir, 'big.bin'), randomBytes(48 << 20));
    const tar = path.join(dir, 'img.tar');
    await fsp.copyFile(busyboxTar(), tar);
    ok(await run('tar', ['rf', tar, '-C', dir, 'big.bin']));
    const big = `${reg.host}/full/big:1`;
    const tiny = `${reg.host}/full/tiny:1`;
    ok(await d.berth(['import', '-c', 'CMD ["sh"]', tar, big]));
    ok(await d.docker(['push', big]));
    ok(await d.docker(['tag', 'busybox', tiny]));
    ok(await d.docker(['push', tiny]));
    await fsp.rm(dir, { recursive: true, force: true });

    small = await startTestDaemon({
      prepare: async (testDir) => {
        await fsp.mkdir(path.join(testDir, 'data'));
        ok(await run('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', path.join(testDir, 'data')]));
      },
    });
    const r = await small.docker(['pull', big]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /no space left|ENOSPC/i);
    const images = ok(await small.docker(['images', '-a', '--format', '{{.Repository}}:{{.Tag}}']));
    assert.doesNotMatch(images, /full\/big/);
    small = await small.restart();
    const after = ok(await small.docker(['images', '-a', '--format', '{{.Repository}}:{{.Tag}}']));
    assert.doesNotMatch(after, /full\/big/);
    ok(await small.docker(['pull', tiny]));
    assert.equal(ok(await small.docker(['run', '--rm', tiny, 'echo', 'fits'])), 'fits\n');
  });
});
