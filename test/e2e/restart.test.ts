// Restart policies with the real docker CLI and the berth CLI: on-failure with a maximum,
// always until a user's stop, Docker's rules at daemon start-up, and bad policies refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

async function inspect(id: string, fmt: string): Promise<string> {
  return ok(await daemon.d.docker(['inspect', '-f', fmt, id])).trim();
}

describe('restart policies', () => {
  test('on-failure:2 restarts a failing container twice, then leaves it exited with its code', async () => {
    const id = ok(
      await daemon.d.docker(['run', '-d', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']),
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
      await daemon.d.berth(['run', '-d', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2']),
    ).trim();
    await until('a restart', async () => Number(await inspect(id, '{{.RestartCount}}')) >= 2);
    ok(await daemon.d.berth(['stop', '-t', '1', id]));
    const count = await inspect(id, '{{.RestartCount}}');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await inspect(id, '{{.RestartCount}} {{.State.Running}}'), `${count} false`);
  });

  test('at daemon start: always comes back even after a stop; unless-stopped stopped by the user does not', async () => {
    const always = ok(
      await daemon.d.docker(['run', '-d', '--restart', 'always', 'busybox', 'sleep', '300']),
    ).trim();
    const unless = ok(
      await daemon.d.docker(['run', '-d', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']),
    ).trim();
    const unlessRunning = ok(
      await daemon.d.docker([
        'run',
        '-d',
        '--restart',
        'unless-stopped',
        'busybox',
        'sh',
        '-c',
        'sleep 1; exit 1',
      ]),
    ).trim();
    ok(await daemon.d.docker(['stop', '-t', '1', always, unless]));
    // The third exits by itself while berthd is down.
    await daemon.d.kill9();
    await new Promise((r) => setTimeout(r, 1500));
    daemon.d = await daemon.d.restart();
    await until('always running again', async () => (await inspect(always, '{{.State.Running}}')) === 'true');
    await until(
      'unless-stopped (not stopped by a user) running again',
      async () => (await inspect(unlessRunning, '{{.State.Running}}')) === 'true',
    );
    assert.equal(await inspect(unless, '{{.State.Running}}'), 'false');
  });

  test('bad policies are a 400 and create nothing', async () => {
    const before = ok(await daemon.d.docker(['ps', '-aq']));
    const bogus = await daemon.d.docker(['create', '--restart', 'bogus', 'busybox']);
    assert.notEqual(bogus.code, 0);
    assert.match(bogus.stderr, /invalid restart policy/);
    const body = (policy: unknown, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ Image: 'busybox', HostConfig: { RestartPolicy: policy, ...extra } });
    for (const b of [
      body({ Name: 'always', MaximumRetryCount: 3 }),
      body({ Name: 'on-failure', MaximumRetryCount: -1 }),
      body({ Name: 'always' }, { AutoRemove: true }),
    ]) {
      const r = await daemon.d.request('POST', '/containers/create', b, {
        'Content-Type': 'application/json',
      });
      assert.equal(r.status, 400, r.body.toString());
    }
    assert.equal(ok(await daemon.d.docker(['ps', '-aq'])), before);
  });
});
