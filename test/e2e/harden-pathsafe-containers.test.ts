// Issue 14 §1 audit: container paths a user names (docker cp both ways, -w, --user, volume
// targets) and the build's own clean-up of mount points are resolved inside the container's
// rootfs even when the image or the container planted symlinks to host paths. The host is
// checked with canary files in a temp dir: content, link count and listing unchanged.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeContext, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const LEGACY = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 60_000 };
const SECRET = `host-canary-${process.pid}-${Date.now()}`;
const daemon = useBusyboxDaemon();
const dirs: string[] = [];
let canary = '';
let listing: string[] = [];

async function setUp(): Promise<void> {
  canary = await mkdtemp(path.join(os.tmpdir(), 'berth-canary-'));
  dirs.push(canary);
  await writeFile(path.join(canary, 'shadow'), SECRET);
  await writeFile(path.join(canary, 'passwd'), 'canaryuser:x:4242:4242::/:/bin/sh\n');
  await writeFile(path.join(canary, 'hosts'), '');
  await mkdir(path.join(canary, 'e'));
  listing = (await readdir(canary)).sort();
  // An image full of links to the host canary.
  const ctx = await makeContext({
    Dockerfile:
      'FROM busybox\n' +
      `RUN ln -s / /escape && ln -s ${canary} /w && ln -s ${canary} /data && ` +
      `rm /etc/passwd && ln -s ${canary}/passwd /etc/passwd && ln -s ${canary}/shadow /etc/sl\n`,
  });
  dirs.push(ctx);
  ok(await daemon.d.docker(['build', '-t', 'hostile', ctx], LEGACY));
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function assertHostUntouched(): Promise<void> {
  assert.deepEqual((await readdir(canary)).sort(), listing, 'the host canary dir changed');
  assert.equal(await readFile(path.join(canary, 'shadow'), 'utf8'), SECRET);
  assert.equal((await stat(path.join(canary, 'shadow'))).nlink, 1);
  assert.deepEqual(await readdir(path.join(canary, 'e')), []);
}

describe('container paths stay inside the rootfs', () => {
  before(setUp);

  test('docker cp into and out of a container through planted links', async () => {
    const c = 'cp-escape';
    ok(
      await daemon.d.docker([
        'run',
        '-d',
        '--name',
        c,
        'hostile',
        'sh',
        '-c',
        `mkdir -p ${canary} && echo in-container > ${canary}/shadow && sleep 600`,
      ]),
    );
    const local = path.join(await mkdtemp(path.join(os.tmpdir(), 'berth-cp-')), 'x');
    dirs.push(path.dirname(local));
    await writeFile(local, 'from-the-client');
    // Into the container: lands in the container's own copy of the path.
    ok(await daemon.d.docker(['cp', local, `${c}:/escape${canary}/x`]));
    ok(await daemon.d.docker(['cp', local, `${c}:/w/x2`]));
    assert.equal(
      ok(await daemon.d.docker(['exec', c, 'cat', `${canary}/x`, `${canary}/x2`])),
      'from-the-clientfrom-the-client',
    );
    // Out of the container: the container's file, never the host's.
    for (const args of [
      ['cp', `${c}:/escape${canary}/shadow`, '-'],
      ['cp', '-L', `${c}:/etc/sl`, '-'],
      ['cp', `${c}:/w/shadow`, '-'],
    ]) {
      const r = await daemon.d.docker(args);
      assert.ok(!r.stdout.includes(SECRET), `${args.join(' ')} read the host file`);
      assert.match(r.stdout, /in-container/, `${args.join(' ')}: ${r.stderr}`);
    }
    // A file used as a directory is not found (404), not a race.
    assert.equal((await daemon.d.request('HEAD', `/containers/${c}/archive?path=/etc/passwd/x`)).status, 404);
    await assertHostUntouched();
  });

  test('-w, --user and volume targets through image links do not touch the host', async () => {
    ok(await daemon.d.docker(['run', '--rm', '-w', '/w/newdir', 'hostile', 'true']));
    ok(await daemon.d.docker(['run', '--rm', '-v', 'pathsafe-vol:/data/e/v', 'hostile', 'true']));
    // A volume on a path that is a link to the host: copy-up reads the image's content only.
    ok(await daemon.d.docker(['run', '--rm', '-v', 'pathsafe-vol2:/data', 'hostile', 'true']));
    const listed = ok(
      await daemon.d.docker(['run', '--rm', '-v', 'pathsafe-vol2:/v', 'busybox', 'ls', '-a', '/v']),
    );
    assert.doesNotMatch(listed, /shadow|passwd/, 'the host dir was copied into the volume');
    const r = await daemon.d.docker(['run', '--rm', '--user', 'canaryuser', 'hostile', 'id', '-u']);
    assert.doesNotMatch(r.stdout, /4242/, 'the host passwd file was read');
    assert.notEqual(r.code, 0);
    await assertHostUntouched();
  });

  test('a RUN that swaps a mount point parent for a link out: clean-up stays inside', async () => {
    const ctx = await makeContext({
      Dockerfile:
        'FROM busybox\n' +
        `RUN --mount=type=tmpfs,target=/x/e mv /x /x.old && ln -s ${canary} /x\n` +
        `RUN --mount=type=bind,target=/y/e mv /y /y.old && ln -s ${canary} /y\n`,
    });
    dirs.push(ctx);
    const r = await daemon.d.docker(['build', '--no-cache', ctx], LEGACY);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await assertHostUntouched();
  });

  test('docker diff of a container swapping a directory for a link out: 200, never the host dir', async () => {
    const c = 'diff-race';
    const hostOnly = `host-only-${process.pid}`;
    await writeFile(path.join(canary, hostOnly), '');
    listing = (await readdir(canary)).sort();
    // The container flips /d between a real directory and a symlink to the host canary dir
    // (bounded loop; it is removed long before the end).
    ok(
      await daemon.d.docker([
        'run',
        '-d',
        '--name',
        c,
        'busybox',
        'sh',
        '-c',
        `mkdir -p /d/sub && ln -s ${canary} /l && i=0; while [ $i -lt 200000 ]; do mv /d /t; mv /l /d; mv /d /l; mv /t /d; i=$((i+1)); done`,
      ]),
    );
    const id = ok(await daemon.d.docker(['inspect', '-f', '{{.Id}}', c])).trim();
    const deadline = Date.now() + 15_000;
    let rounds = 0;
    for (; rounds < 400 && Date.now() < deadline; rounds++) {
      const r = await daemon.d.request('GET', `/containers/${id}/changes`);
      // A path vanishing mid-walk is a change in progress, not a server error.
      assert.equal(r.status, 200, r.body.toString());
      assert.ok(!r.body.toString().includes(hostOnly), `diff listed the host directory: ${r.body}`);
    }
    assert.ok(rounds > 20, `only ${rounds} diffs ran`);
    // stat (HEAD /archive, what `docker cp` asks first) does not freeze the container either:
    // the file exists only on the host, so it must never be found.
    let found = 0;
    for (let i = 0; i < 1500 && Date.now() < deadline + 10_000; i++) {
      const r = await daemon.d.request('HEAD', `/containers/${id}/archive?path=/d/${hostOnly}`);
      if (r.status === 200) found++;
    }
    assert.equal(found, 0, 'stat saw a host file through the swapped directory');
    // commit with pause=false packs the upper dir of a live container: never the host's files.
    let commits = 0;
    let leaked = 0;
    for (; commits < 20 && Date.now() < deadline + 25_000; commits++) {
      const c1 = await daemon.d.request('POST', `/commit?container=${id}&pause=0`, '{}', {
        'Content-Type': 'application/json',
      });
      if (c1.status !== 201) continue; // a file changed while packed: refused, fine
      const img = (JSON.parse(c1.body.toString()) as { Id: string }).Id;
      const saved = await daemon.d.request('GET', `/images/${img}/get`);
      if (saved.body.includes(SECRET)) leaked++;
      await daemon.d.request('DELETE', `/images/${img}?force=1`);
    }
    assert.equal(leaked, 0, `${leaked} of ${commits} commits packed the host canary`);
    ok(await daemon.d.docker(['rm', '-f', c]));
    await rm(path.join(canary, hostOnly));
    listing = (await readdir(canary)).sort();
    await assertHostUntouched();
  });

  test('exec --user reads the container passwd even while it is swapped for a link to the host', async () => {
    const c = 'passwd-race';
    // /etc/passwd flips between a real file and a symlink to the host canary's passwd, where
    // canaryuser is 4242; in the container it is 1111 (also at the link's in-root target, so
    // every lookup finds the user: exec with an unknown user does not come back, see report).
    // Bounded loop; the container is removed long before its end.
    const line = 'canaryuser:x:1111:1111::/:/bin/sh';
    ok(
      await daemon.d.docker([
        'run',
        '-d',
        '--name',
        c,
        'busybox',
        'sh',
        '-c',
        `echo ${line} >> /etc/passwd && cp /etc/passwd /p.real && mkdir -p ${canary} && cp /p.real ${canary}/passwd && ` +
          `i=0; while [ $i -lt 100000 ]; do cp /p.real /etc/p1; mv -f /etc/p1 /etc/passwd; ln -s ${canary}/passwd /etc/p2; mv -f /etc/p2 /etc/passwd; i=$((i+1)); done`,
      ]),
    );
    let asHostUser = 0;
    let asContainerUser = 0;
    let runs = 0;
    const deadline = Date.now() + 15_000;
    for (; runs < 60 && Date.now() < deadline; runs++) {
      const r = await daemon.d.docker(['exec', '-u', 'canaryuser', c, 'id', '-u'], { timeoutMs: 5000 });
      if (r.stdout.includes('4242')) asHostUser++;
      if (r.stdout.includes('1111')) asContainerUser++;
    }
    ok(await daemon.d.docker(['rm', '-f', c]));
    assert.ok(asContainerUser >= 10, `only ${asContainerUser} of ${runs} execs ran as the container's user`);
    assert.equal(asHostUser, 0, `${asHostUser} of ${runs} execs ran as a user found in the host's passwd`);
    await assertHostUntouched();
  });
});
