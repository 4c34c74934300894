// Restart policies with the real docker CLI and the berth CLI: on-failure with a maximum,
// always until a user's stop, Docker's rules at daemon start-up, and bad policies refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
  assert.equal((await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox'])).code, 0);
});
after(async () => {
  if (d) {
    const ids = (await d.berth(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length > 0) await d.berth(['rm', '-f', ...ids]);
    await d.cleanup();
  }
});

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function inspect(id: string, fmt: string): Promise<string> {
  return ok(await d.docker(['inspect', '-f', fmt, id])).trim();
}

/** Polls (bounded) until `fn` is true. */
async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('restart policies', () => {
  test('on-failure:2 restarts a failing container twice, then leaves it exited with its code', async () => {
    const id = ok(
      await d.docker(['run', '-d', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']),
    ).trim();
    await until(
      'two restarts',
      async () => (await inspect(id, '{{.RestartCount}} {{.State.Status}}')) === '2 exited',
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await inspect(id, '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}'), '2 exited 3');
    assert.equal(
      await inspect(id, '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}'),
      'on-failure:2',
    );
  });

  test('always restarts until the user stops it (berth CLI)', async () => {
    const id = ok(
      await d.berth(['run', '-d', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2']),
    ).trim();
    await until('a restart', async () => Number(await inspect(id, '{{.RestartCount}}')) >= 2);
    ok(await d.berth(['stop', '-t', '1', id]));
    const count = await inspect(id, '{{.RestartCount}}');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await inspect(id, '{{.RestartCount}} {{.State.Running}}'), `${count} false`);
  });

  test('at daemon start: always comes back even after a stop; unless-stopped stopped by the user does not', async () => {
    const always = ok(await d.docker(['run', '-d', '--restart', 'always', 'busybox', 'sleep', '300'])).trim();
    const unless = ok(
      await d.docker(['run', '-d', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']),
    ).trim();
    const unlessRunning = ok(
      await d.docker(['run', '-d', '--restart', 'unless-stopped', 'busybox', 'sh', '-c', 'sleep 1; exit 1']),
    ).trim();
    ok(await d.docker(['stop', '-t', '1', always, unless]));
    // The third exits by itself while berthd is down.
    await d.kill9();
    await new Promise((r) => setTimeout(r, 1500));
    d = await d.restart();
    await until('always running again', async () => (await inspect(always, '{{.State.Running}}')) === 'true');
    await until(
      'unless-stopped (not stopped by a user) running again',
      async () => (await inspect(unlessRunning, '{{.State.Running}}')) === 'true',
    );
    assert.equal(await inspect(unless, '{{.State.Running}}'), 'false');
  });

  test('bad policies are a 400 and create nothing', async () => {
    const before = ok(await d.docker(['ps', '-aq']));
    const bogus = await d.docker(['create', '--restart', 'bogus', 'busybox']);
    assert.notEqual(bogus.code, 0);
    assert.match(bogus.stderr, /invalid restart policy/);
    const body = (policy: unknown, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ Image: 'busybox', HostConfig: { RestartPolicy: policy, ...extra } });
    for (const b of [
      body({ Name: 'always', MaximumRetryCount: 3 }),
      body({ Name: 'on-failure', MaximumRetryCount: -1 }),
      body({ Name: 'always' }, { AutoRemove: true }),
    ]) {
      const r = await d.request('POST', '/containers/create', b, { 'Content-Type': 'application/json' });
      assert.equal(r.status, 400, r.body.toString());
    }
    assert.equal(ok(await d.docker(['ps', '-aq'])), before);
  });
});
