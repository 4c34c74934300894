// Issue 14, the timer class: a delay a user chooses (stop timeout, healthcheck interval and
// timeout) above 2^31-1 ms made Node fire the timer after 1 ms, so `docker stop -t 3000000`
// killed the container at once and a 30-day healthcheck interval probed in a busy loop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DaemonHolder, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon: DaemonHolder = useBusyboxDaemon();
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('docker stop -t with a timeout beyond 24.8 days waits instead of killing at once', async () => {
  const d = daemon.d;
  // PID 1 without a TERM handler ignores SIGTERM: only the timeout's SIGKILL can end it.
  const id = ok(await d.docker(['run', '-d', 'busybox', 'sleep', '300'])).trim();
  const stopping = d.docker(['stop', '-t', '3000000', id], { timeoutMs: 60_000 });
  await pause(1500);
  const state = ok(await d.docker(['inspect', '-f', '{{.State.Status}}', id])).trim();
  assert.equal(state, 'running', 'the stop timeout fired early: the container was killed at once');
  ok(await d.docker(['kill', id]));
  const r = await stopping;
  assert.equal(r.code, 0, r.stderr);
  ok(await d.docker(['rm', '-f', id]));
});

test('a healthcheck interval beyond 24.8 days does not probe in a loop', async () => {
  const d = daemon.d;
  const id = ok(
    await d.docker([
      'run',
      '-d',
      '--health-cmd',
      'true',
      '--health-interval',
      '720h',
      '--health-start-period',
      '0s',
      'busybox',
      'sleep',
      '300',
    ]),
  ).trim();
  await pause(2500);
  const log = JSON.parse(ok(await d.docker(['inspect', '-f', '{{json .State.Health}}', id]))) as {
    Status: string;
    Log: unknown[] | null;
  };
  // 720 h is 2,592,000,000 ms, above 2^31-1: no probe may have run yet.
  assert.equal(log.Log?.length ?? 0, 0, `probes ran: ${JSON.stringify(log)}`);
  assert.equal(log.Status, 'starting');
  ok(await d.docker(['rm', '-f', id]));
  const ping = await d.request('GET', '/_ping');
  assert.equal(ping.status, 200);
});
