// The fluentd log driver through dockerode against a Forward-protocol server written in the test
// (msgpack): the record layout Docker sends (container_id, container_name, source, log, chosen
// labels and env), the tag template, EventTime with sub-second precision, acks, dual logging
// (`logs` reads the local cache; cache-disabled and none answer Docker's error), a receiver down
// at start (blocking fails, async runs and catches up) and a receiver killed mid-stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Docker from 'dockerode';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { firstArrivals, fluentdReceiver, waitFor } from '../helpers/log-receivers.ts';

const daemon = useBusyboxDaemon();
const docker = () => new Docker({ socketPath: daemon.d.socket });

async function runTo(
  cmd: string[],
  LogConfig: { Type: string; Config: Record<string, string> },
  extra: Record<string, unknown> = {},
): Promise<Docker.Container> {
  const c = await docker().createContainer({
    Image: 'busybox',
    Cmd: cmd,
    HostConfig: { LogConfig },
    ...extra,
  });
  await c.start();
  return c;
}

test('records, tag, labels/env, sub-second EventTime and acks; docker logs reads the cache', async () => {
  const r = await fluentdReceiver();
  try {
    const c = await runTo(
      ['sh', '-c', 'echo alpha; echo beta >&2; printf gamma'],
      {
        Type: 'fluentd',
        Config: {
          'fluentd-address': `127.0.0.1:${r.port}`,
          tag: 'app.{{.Name}}.{{.ImageName}}',
          labels: 'team',
          env: 'STAGE',
          'fluentd-sub-second-precision': 'true',
          'fluentd-request-ack': 'true',
        },
      },
      { name: 'fl-rec', Labels: { team: 'core', other: 'x' }, Env: ['STAGE=prod', 'SECRET=no'] },
    );
    // The last line has no newline: it is sent once the container has exited.
    await waitFor('three records', () => r.got.length >= 3);
    assert.equal(r.got.filter((g) => g.record.log === 'gamma').length, 1);
    const info = await c.inspect();
    const byLog = new Map(r.got.map((g) => [g.record.log, g]));
    const a = byLog.get('alpha')!;
    const b = byLog.get('beta')!;
    assert.equal(a.tag, 'app.fl-rec.busybox');
    assert.deepEqual(a.record, {
      container_id: info.Id,
      container_name: '/fl-rec',
      source: 'stdout',
      log: 'alpha',
      team: 'core',
      STAGE: 'prod',
    });
    assert.equal(b.record.source, 'stderr');
    const t = a.time as { sec: number; nsec: number };
    assert.equal(typeof t.sec, 'number');
    assert.ok(Math.abs(t.sec - Date.now() / 1000) < 120, `${t.sec}`);
    assert.ok(t.nsec >= 0 && t.nsec < 1e9);
    assert.ok(
      r.options.every((o) => typeof o.chunk === 'string' && o.chunk !== ''),
      JSON.stringify(r.options),
    );
    await c.wait();
    const logs = ok(await daemon.d.docker(['logs', 'fl-rec']));
    assert.equal(logs, 'alpha\ngamma');
    assert.equal(info.HostConfig.LogConfig?.Type, 'fluentd');
  } finally {
    await r.close();
  }
});

test('cache-disabled and none: logs answers "configured logging driver does not support reading"', async () => {
  const r = await fluentdReceiver();
  try {
    const c = await runTo(['echo', 'nocache'], {
      Type: 'fluentd',
      Config: { 'fluentd-address': `tcp://127.0.0.1:${r.port}`, 'cache-disabled': 'true' },
    });
    await waitFor('the record', () => r.got.length >= 1);
    assert.equal(r.got[0]!.record.log, 'nocache');
    // Integer seconds without sub-second precision; default tag: the short ID.
    assert.equal(typeof r.got[0]!.time, 'number');
    assert.equal(r.got[0]!.tag, c.id.slice(0, 12));
    await c.wait();
    await assert.rejects(
      c.logs({ stdout: true, stderr: true }),
      (e: { statusCode?: number; message: string }) => {
        assert.equal(e.statusCode, 501);
        assert.match(e.message, /configured logging driver does not support reading/);
        return true;
      },
    );
    const n = await daemon.d.docker([
      'run',
      '--name',
      'fl-none',
      '--log-driver',
      'none',
      'busybox',
      'echo',
      'x',
    ]);
    assert.equal(n.code, 0, n.stderr);
    const nl = await daemon.d.docker(['logs', 'fl-none']);
    assert.notEqual(nl.code, 0);
    assert.match(nl.stderr, /configured logging driver does not support reading/);
  } finally {
    await r.close();
  }
});

test('receiver down at start: blocking refuses to start, fluentd-async runs and delivers once the receiver is up', async () => {
  const probe = await fluentdReceiver();
  const port = probe.port;
  await probe.close();
  const cfg = { 'fluentd-address': `127.0.0.1:${port}`, 'fluentd-retry-wait': '100ms' };
  await assert.rejects(runTo(['true'], { Type: 'fluentd', Config: cfg }), (e: { message: string }) => {
    assert.match(
      e.message,
      new RegExp(`failed to initialize logging driver: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`),
    );
    return true;
  });
  const c = await runTo(['sh', '-c', 'for i in 1 2 3 4 5; do echo early-$i; done'], {
    Type: 'fluentd',
    Config: { ...cfg, 'fluentd-async': 'true' },
  });
  await c.wait();
  const r = await fluentdReceiver(port);
  try {
    await waitFor('five records', () => r.got.length >= 5, 15_000);
    assert.deepEqual(
      r.got.map((g) => g.record.log),
      ['early-1', 'early-2', 'early-3', 'early-4', 'early-5'],
    );
  } finally {
    await r.close();
  }
});

test('a receiver killed mid-stream and restarted: every line arrives, in order (acks: only an unacknowledged batch again)', async () => {
  let r = await fluentdReceiver();
  const port = r.port;
  const seen: string[] = [];
  const N = 400;
  const c = await runTo(
    ['sh', '-c', `i=0; while [ $i -lt ${N} ]; do echo line-$i; i=$((i+1)); usleep 5000; done`],
    {
      Type: 'fluentd',
      Config: {
        'fluentd-address': `127.0.0.1:${port}`,
        'fluentd-request-ack': 'true',
        'fluentd-retry-wait': '100ms',
      },
    },
  );
  try {
    await waitFor('some lines', () => r.got.length >= 50);
    seen.push(...r.got.map((g) => g.record.log!));
    await r.close();
    await new Promise((res) => setTimeout(res, 700));
    r = await fluentdReceiver(port);
    await waitFor(
      'every line',
      () => firstArrivals([...seen, ...r.got.map((g) => g.record.log!)]).order.length >= N,
      30_000,
    );
    await c.wait();
    await new Promise((res) => setTimeout(res, 300));
    seen.push(...r.got.map((g) => g.record.log!));
    const { order, again } = firstArrivals(seen);
    assert.deepEqual(
      order,
      Array.from({ length: N }, (_, i) => `line-${i}`),
    );
    // Whatever came twice is the batch in flight when the receiver died, sent again whole.
    assert.ok(again <= 50, `${again} lines came twice`);
  } finally {
    await r.close();
  }
});
