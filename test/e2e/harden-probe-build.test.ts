// Issue 14 probe: a Dockerfile is attacker text expanded on the daemon's event loop. Deeply
// nested `${a:-${a:-…}}` re-lexed the rest of the line at every level (the loop stalled over a
// second, then "Maximum call stack size exceeded"), and `ENV b=$a$a…` repeated grew a value
// exponentially until V8 refused the string. Both are now bounded with a clear error, and the
// daemon answers /_ping meanwhile.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, test } from 'node:test';
import { type DaemonHolder, makeContext, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon: DaemonHolder = useBusyboxDaemon();
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function build(dockerfile: string) {
  const ctx = await makeContext({ Dockerfile: dockerfile });
  dirs.push(ctx);
  return daemon.d.docker(['build', '--no-cache', ctx], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 60_000 });
}

/** Pings every 50 ms while `work` runs; returns the slowest answer in ms. */
async function slowestPing<T>(work: Promise<T>): Promise<{ result: T; worstMs: number }> {
  let done = false;
  let worstMs = 0;
  const pinger = (async () => {
    while (!done) {
      const t = performance.now();
      await daemon.d.request('GET', '/_ping');
      worstMs = Math.max(worstMs, performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await work;
  done = true;
  await pinger;
  return { result, worstMs };
}

test('substitutions nested 20000 deep: a clear error, no stall', async () => {
  const n = 20_000;
  const { result: r, worstMs } = await slowestPing(
    build(`FROM busybox\nENV x=${'${a:-'.repeat(n)}z${'}'.repeat(n)}\n`),
  );
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /nested more than 32 deep/);
  assert.doesNotMatch(r.stdout + r.stderr, /call stack/);
  assert.ok(worstMs < 500, `a /_ping took ${Math.round(worstMs)} ms during the build`);
});

test('ENV values that double and redouble: refused past 1 MiB, not at V8 string limits', async () => {
  const lines = ['FROM busybox', 'ENV a0=xxxxxxxxxxxxxxxx'];
  for (let i = 1; i <= 8; i++) lines.push(`ENV a${i}=${`$a${i - 1}`.repeat(16)}`);
  const { result: r, worstMs } = await slowestPing(build(`${lines.join('\n')}\n`));
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /expands to more than 1048576 bytes/);
  assert.doesNotMatch(r.stdout + r.stderr, /Invalid string length/);
  assert.ok(worstMs < 1000, `a /_ping took ${Math.round(worstMs)} ms during the build`);
});

test('ordinary nesting and long-ish values still build', async () => {
  const r = await build(
    'FROM busybox\nARG A\nENV B=${A:-${C:-${D:-deep}}}\nENV L=' +
      'y'.repeat(4000) +
      '\nRUN test "$B" = deep\n',
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  ok(await daemon.d.docker(['images']));
});
