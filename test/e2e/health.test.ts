// Healthchecks with the real docker CLI and the berth CLI: a probe that turns healthy then
// unhealthy, State.Health in inspect, ps status, health_status events, --no-healthcheck.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

test('a healthcheck turns healthy, then unhealthy, with events and the ps status', async () => {
  const since = Math.floor(Date.now() / 1000);
  const id = ok(
    await daemon.d.docker([
      'run',
      '-d',
      '--health-cmd',
      'test -f /tmp/ok',
      '--health-interval',
      '300ms',
      '--health-retries',
      '1',
      'busybox',
      'sleep',
      '300',
    ]),
  ).trim();
  const health = async () => ok(await daemon.d.docker(['inspect', '-f', '{{json .State.Health}}', id]));
  await until('a first failing probe', async () => /"Status":"unhealthy"/.test(await health()));
  ok(await daemon.d.docker(['exec', id, 'touch', '/tmp/ok']));
  await until('healthy', async () => /"Status":"healthy"/.test(await health()));
  assert.match(
    ok(await daemon.d.berth(['ps', '--format', '{{.Status}}', '--filter', `id=${id}`])),
    /\(healthy\)/,
  );
  const h = JSON.parse(await health()) as { FailingStreak: number; Log: { ExitCode: number }[] };
  assert.equal(h.FailingStreak, 0);
  assert.ok(h.Log.length >= 1 && h.Log.length <= 5);
  ok(await daemon.d.docker(['exec', id, 'rm', '/tmp/ok']));
  await until('unhealthy again', async () => /"Status":"unhealthy"/.test(await health()));
  const events = ok(
    await daemon.d.docker([
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.floor(Date.now() / 1000) + 1),
      '--filter',
      `container=${id}`,
      '--format',
      '{{.Action}}',
    ]),
  );
  assert.match(events, /health_status: healthy/);
  assert.match(events, /health_status: unhealthy/);
});

test('--no-healthcheck disables a healthcheck; berth CLI flags reach the config', async () => {
  const id = ok(
    await daemon.d.berth([
      'run',
      '-d',
      '--health-cmd',
      'true',
      '--health-interval',
      '200ms',
      'busybox',
      'sleep',
      '300',
    ]),
  ).trim();
  assert.equal(
    ok(
      await daemon.d.docker([
        'inspect',
        '-f',
        '{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}}',
        id,
      ]),
    ).trim(),
    '["CMD-SHELL","true"] 200ms',
  );
  await until(
    'healthy',
    async () =>
      ok(await daemon.d.docker(['inspect', '-f', '{{.State.Health.Status}}', id])).trim() === 'healthy',
  );
  const none = ok(await daemon.d.berth(['run', '-d', '--no-healthcheck', 'busybox', 'sleep', '300'])).trim();
  assert.equal(
    ok(await daemon.d.docker(['inspect', '-f', '{{json .Config.Healthcheck.Test}}', none])).trim(),
    '["NONE"]',
  );
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(ok(await daemon.d.docker(['inspect', '-f', '{{json .State.Health}}', none])).trim(), 'null');
});
