// Issue 14: a container start must not wait 30 s on a create that already failed, and when a
// create really hangs the error must say what the runtime and the processes under conmon did.
// The runtimes here are tiny shell wrappers named in daemon.json (no mock of runc itself: the
// real runc still answers every call but the one under test).
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fsp, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-hang-'));
const pidsFile = path.join(dir, 'pids');
// Fails `create` the way a runc whose init is still alive does: the error goes to the runtime's
// --log file only, and a child keeps the container's stderr pipe (which conmon reads) open.
const stuck = path.join(dir, 'stuck-rt');
// Hangs in `create` (a wedged runtime): only the last-resort timeout can end it.
const slow = path.join(dir, 'slow-rt');
// Hangs in `start`, the first runtime call berthd makes itself after conmon's create.
const hangStart = path.join(dir, 'hang-start-rt');
let d: TestDaemon;

before(async () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
  const logArg = 'log=""; for a in "$@"; do case "$a" in --log=*) log="${a#--log=}";; esac; done';
  writeFileSync(
    stuck,
    `#!/bin/sh\n${logArg}\ncase " $* " in *" create "*)\n` +
      `  sleep 25 & echo $! >> ${pidsFile}\n` +
      `  [ -n "$log" ] && echo '{"level":"error","msg":"fake-runtime: cannot create: stuck-rt says no"}' >> "$log"\n` +
      '  exit 1;;\nesac\nexec runc "$@"\n',
    { mode: 0o755 },
  );
  writeFileSync(
    slow,
    `#!/bin/sh\ncase " $* " in *" create "*)\n  echo $$ >> ${pidsFile}\n  exec sleep 25;;\nesac\nexec runc "$@"\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    hangStart,
    `#!/bin/sh\ncase " $* " in *" start "*)\n  echo $$ >> ${pidsFile}\n  exec sleep 25;;\nesac\nexec runc "$@"\n`,
    { mode: 0o755 },
  );
  d = await startTestDaemon({
    config: {
      runtimes: {
        'stuck-rt': { path: stuck },
        'slow-rt': { path: slow },
        'hang-start-rt': { path: hangStart },
      },
    },
    env: { BERTH_CREATE_TIMEOUT_MS: '4000', BERTH_RUNTIME_TIMEOUT_MS: '5000' },
  });
  const r = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  // Stop what the fake runtimes left running (by pid, only ours), then the daemon.
  for (const p of (await fsp.readFile(pidsFile, 'utf8').catch(() => '')).split('\n').filter(Boolean)) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (d) {
    const ids = (await d.berth(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length > 0) await d.berth(['rm', '-f', ...ids]);
    await d.cleanup();
  }
  await fsp.rm(dir, { recursive: true, force: true });
});

async function pingWithin(ms: number): Promise<void> {
  const t0 = Date.now();
  const r = await d.request('GET', '/_ping');
  assert.equal(r.status, 200);
  assert.ok(Date.now() - t0 < ms, `/_ping took ${Date.now() - t0} ms`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('container create that fails or hangs', () => {
  test('a runtime error conmon cannot pass on comes at once, with the runtime’s message', async () => {
    const t0 = Date.now();
    const run = d.docker(['run', '--rm', '--runtime', 'stuck-rt', 'busybox', 'true'], { timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 300));
    await pingWithin(1000);
    const r = await run;
    const took = Date.now() - t0;
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /stuck-rt says no/, r.stderr);
    assert.ok(took < 10_000, `the failed create took ${took} ms to be reported`);
    await pingWithin(1000);
  });

  test('a hanging create ends at the timeout with what runtime and processes were doing', async () => {
    const t0 = Date.now();
    const run = d.docker(['run', '--rm', '--runtime', 'slow-rt', 'busybox', 'true'], { timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 1000));
    await pingWithin(1000);
    const r = await run;
    const took = Date.now() - t0;
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /did not report the container pid within 4s/, r.stderr);
    assert.match(r.stderr, /processes: \d+ .*conmon.*sleep 25/s, r.stderr);
    assert.ok(took < 15_000, `the hung create took ${took} ms to be reported`);
    // The wedged runtime was ended with its monitor, not left behind.
    const pids = (await fsp.readFile(pidsFile, 'utf8')).split('\n').filter(Boolean).map(Number);
    const last = pids.at(-1)!;
    const end = Date.now() + 3000;
    while (alive(last) && Date.now() < end) await new Promise((res) => setTimeout(res, 100));
    assert.ok(!alive(last), `the hung runtime ${last} is still running`);
    await pingWithin(1000);
  });

  test('a runtime call that hangs (start) is killed at its bound and named in the error', async () => {
    const t0 = Date.now();
    const run = d.docker(['run', '--rm', '--runtime', 'hang-start-rt', 'busybox', 'true'], {
      timeoutMs: 40_000,
    });
    await new Promise((r) => setTimeout(r, 1000));
    await pingWithin(1000);
    const r = await run;
    const took = Date.now() - t0;
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /`hang-start-rt start` did not finish within 5s and was killed/, r.stderr);
    assert.ok(took < 15_000, `the hung start took ${took} ms to be reported`);
    await pingWithin(1000);
    // The daemon still starts containers afterwards.
    const ok = await d.docker(['run', '--rm', 'busybox', 'echo', 'fine'], { timeoutMs: 30_000 });
    assert.equal(ok.stdout.trim(), 'fine', ok.stderr);
  });

  test('runc’s own create error still comes at once with its message', async () => {
    const t0 = Date.now();
    const r = await d.docker(['run', '--rm', 'busybox', '/no/such/binary'], { timeoutMs: 40_000 });
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /no such file or directory|executable file not found/, r.stderr);
    assert.ok(Date.now() - t0 < 10_000);
  });
});
