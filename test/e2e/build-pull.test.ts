// Base images from a registry (Debian's docker-registry on loopback): a missing base is pulled,
// `--pull` fetches the registry's newer image even when one is present, and credentials are
// not needed for an open registry.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { makeContext, ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { busyboxTar } from '../helpers/fixtures.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const daemon = useBusyboxDaemon();
let reg: TestRegistry;
const dirs: string[] = [];
before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  for (const d of dirs) await fsp.rm(d, { recursive: true, force: true });
});

/** Imports busybox plus /version containing `v`, tagged `ref`, and pushes it. */
async function pushVersion(ref: string, v: string): Promise<void> {
  const dir = await fsp.mkdtemp(path.join(daemon.d.dir, 'v-'));
  await fsp.writeFile(path.join(dir, 'version'), `${v}\n`);
  const tar = path.join(dir, 'img.tar');
  await fsp.copyFile(busyboxTar(), tar);
  ok(await run('tar', ['rf', tar, '-C', dir, 'version']));
  ok(await daemon.d.berth(['import', '-c', 'CMD ["sh"]', tar, ref]));
  ok(await daemon.d.docker(['push', ref]));
}

describe('build with registry base images', () => {
  test('a missing base is pulled; --pull takes the newer one', async () => {
    const ref = `${reg.host}/base/app:1`;
    await pushVersion(ref, 'one');
    ok(await daemon.d.docker(['rmi', ref]));
    const dir = await makeContext({ Dockerfile: `FROM ${ref}\nRUN cp /version /seen\n` });
    dirs.push(dir);
    const first = await daemon.d.berth(['build', '-t', 'pulled:1', dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'pulled:1', 'cat', '/seen'])), 'one\n');
    // The registry moves on; a plain build keeps the local base, --pull fetches the new one.
    await pushVersion(ref, 'two');
    ok(await daemon.d.docker(['tag', 'pulled:1', ref])); // local base now differs from the registry's
    const noPull = await daemon.d.berth(['build', '-t', 'pulled:2', dir]);
    assert.equal(noPull.code, 0, noPull.stderr);
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'pulled:2', 'cat', '/seen'])), 'one\n');
    const withPull = await daemon.d.berth(['build', '--pull', '-t', 'pulled:3', dir]);
    assert.equal(withPull.code, 0, withPull.stderr);
    assert.equal(ok(await daemon.d.docker(['run', '--rm', 'pulled:3', 'cat', '/seen'])), 'two\n');
  });
});
