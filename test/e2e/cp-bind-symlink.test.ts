// `docker cp` must not write or read through a symlink the container planted in a bind's source
// on the host: with `-v dir:/data -v dir/f:/etc/f`, the container can replace dir/f by a symlink
// to any host file (here a decoy standing in for /etc/shadow) and dir/sub by a symlink to any
// host directory. cp into /etc/f or below the nested directory bind is refused, the decoys stay
// untouched, and cp out does not read the decoy's content.
// And a kill -9 of berthd mid-cp (crash point cp:after-staging) leaves staging entries that
// the next start's recovery removes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { crashed } from '../helpers/leaks.ts';

const h = useBusyboxDaemon();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-cpsym-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('docker cp through swapped bind sources', () => {
  test('a file bind or a nested directory bind swapped for a symlink is refused, the decoys stay intact', async () => {
    const hostDir = path.join(tmp, 'host');
    mkdirSync(path.join(hostDir, 'sub'), { recursive: true });
    writeFileSync(path.join(hostDir, 'f'), 'orig\n');
    const decoy = path.join(tmp, 'shadow');
    writeFileSync(decoy, 'secret\n', { mode: 0o600 });
    const decoyDir = path.join(tmp, 'decoy-dir');
    mkdirSync(decoyDir);
    const src = path.join(tmp, 'src');
    mkdirSync(src);
    writeFileSync(path.join(src, 'f'), 'pwned\n', { mode: 0o777 });
    mkdirSync(path.join(src, 'etc'));
    writeFileSync(path.join(src, 'etc', 'f'), 'pwned\n', { mode: 0o777 });
    const ctr = 'cpsym';
    ok(
      await h.d.docker([
        'run',
        '-d',
        '--name',
        ctr,
        '-v',
        `${hostDir}:/data`,
        '-v',
        `${path.join(hostDir, 'f')}:/etc/f`,
        '-v',
        `${path.join(hostDir, 'sub')}:/sub`,
        'busybox',
        'sleep',
        '600',
      ]),
    );
    try {
      // Before the swap the binds work both ways.
      ok(await h.d.docker(['cp', path.join(src, 'f'), `${ctr}:/sub/`]));
      assert.equal(readFileSync(path.join(hostDir, 'sub', 'f'), 'utf8'), 'pwned\n');
      // The container swaps the sources for symlinks to host paths.
      ok(
        await h.d.docker([
          'exec',
          ctr,
          'sh',
          '-c',
          `rm /data/f && ln -s ${decoy} /data/f && rm -r /data/sub && ln -s ${decoyDir} /data/sub`,
        ]),
      );
      for (const dest of [`${ctr}:/etc/`, `${ctr}:/etc/f`, `${ctr}:/sub/g`, `${ctr}:/`]) {
        // Into /, a tree `etc/f` reaches the file bind from above.
        const r = await h.d.docker([
          'cp',
          dest === `${ctr}:/` ? path.join(src, 'etc') : path.join(src, 'f'),
          dest,
        ]);
        assert.notEqual(r.code, 0, `cp to ${dest} must be refused`);
        assert.match(r.stderr, /symlink/, `${dest}: ${r.stderr}`);
      }
      assert.equal(readFileSync(decoy, 'utf8'), 'secret\n');
      assert.equal(statSync(decoy).mode & 0o7777, 0o600);
      assert.deepEqual(readdirSync(decoyDir), []);
      // cp out does not read the decoy through the swapped bind.
      const out = await h.d.docker(['cp', `${ctr}:/etc/f`, '-']);
      assert.doesNotMatch(out.stdout, /secret/);
      const whole = await h.d.docker(['cp', `${ctr}:/etc`, '-']);
      assert.doesNotMatch(whole.stdout, /secret/);
    } finally {
      await h.d.docker(['rm', '-f', ctr]);
    }
  });

  test('a kill -9 of berthd mid-cp leaves staging entries the next start removes', async () => {
    const bound = path.join(tmp, 'g');
    writeFileSync(bound, 'old\n');
    const ctr = 'cpcrash';
    ok(await h.d.docker(['run', '-d', '--name', ctr, '-v', `${bound}:/etc/g`, 'busybox', 'sleep', '600']));
    try {
      const pid = ok(await h.d.docker(['inspect', '-f', '{{.State.Pid}}', ctr])).trim();
      const etc = `/proc/${pid}/root/etc`;
      h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'cp:after-staging' } });
      const src = path.join(mkdtempSync(path.join(tmp, 'c-')), 'g');
      writeFileSync(src, 'new\n');
      const r = await h.d.docker(['cp', src, `${ctr}:/etc/`], { timeoutMs: 20_000 });
      assert.notEqual(r.code, 0, 'cp should fail when the daemon dies');
      await crashed(h.d);
      assert.ok(
        readdirSync(etc).some((n) => n.startsWith('.berth-cp-')),
        'the crash should leave a staging entry beside the bind',
      );
      h.d = await h.d.restart();
      assert.deepEqual(
        readdirSync(etc).filter((n) => n.startsWith('.berth-cp-')),
        [],
      );
      assert.equal(readFileSync(bound, 'utf8'), 'old\n');
      ok(await h.d.docker(['cp', src, `${ctr}:/etc/`]));
      assert.equal(readFileSync(bound, 'utf8'), 'new\n');
    } finally {
      await h.d.docker(['rm', '-f', ctr]);
    }
  });
});
