// Remote delivery survives a kill -9 of berthd (live-restore): conmon keeps writing the local
// log while berthd is down; the next berthd resumes each container's delivery at its durable
// cursor. Every line arrives, in order; only the batch in flight at the kill may come again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import {
  countedLines,
  countingScript,
  firstArrivals,
  fluentdFlags,
  fluentdReceiver,
  waitFor,
} from '../helpers/log-receivers.ts';

const daemon = useBusyboxDaemon();

test('kill -9 of berthd while containers write: every line arrives after the restart, in order', async () => {
  const r = await fluentdReceiver();
  try {
    const N = 1500;
    const M = 300;
    // One writes through the kill and after the restart; one exits while berthd is down.
    const writers = [
      ['long', N],
      ['short', M],
    ] as const;
    for (const [name, n] of writers) {
      ok(
        await daemon.d.docker([
          'run',
          '-d',
          '--name',
          name,
          ...fluentdFlags(r.port, 'fluentd-request-ack=true', `tag=${name}`),
          'busybox',
          'sh',
          '-c',
          countingScript(name, n, 'usleep 2000'),
        ]),
      );
    }
    await waitFor('lines before the kill', () => r.got.some((g) => g.tag === 'long'));
    await daemon.d.kill9();
    const atKill = r.got.length;
    await new Promise((res) => setTimeout(res, 2000));
    daemon.d = await daemon.d.restart();
    const lines = (tag: string) => r.got.filter((g) => g.tag === tag).map((g) => g.record.log!);
    await waitFor(
      'every line of both containers',
      () => firstArrivals(lines('long')).order.length >= N && firstArrivals(lines('short')).order.length >= M,
      40_000,
    );
    for (const [tag, n] of writers) {
      const { order, again } = firstArrivals(lines(tag));
      assert.deepEqual(order, countedLines(tag, n), tag);
      assert.ok(again <= 200, `${tag}: ${again} lines came twice`);
    }
    assert.ok(atKill < N + M, 'the kill came while lines were pending');
    assert.equal(ok(await daemon.d.docker(['inspect', '-f', '{{.State.Status}}', 'short'])), 'exited\n');
    // The local cache has every line too.
    assert.equal(
      ok(await daemon.d.docker(['logs', 'short']))
        .split('\n')
        .filter(Boolean).length,
      M,
    );
  } finally {
    await r.close();
  }
});
