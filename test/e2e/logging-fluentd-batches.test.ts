// Fluentd batches as the receiver sees them: a batch resent after a missing ack (the receiver hung
// up before acking, or berthd was killed with it in flight) carries the chunk id it had, so a
// receiver that drops chunks it has seen gets every line exactly once; fluentd-buffer-limit caps
// the records of one Forward message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import {
  countedLines,
  countingScript,
  type FluentRecord,
  fluentdFlags,
  fluentdReceiver,
  waitFor,
} from '../helpers/log-receivers.ts';

const daemon = useBusyboxDaemon();

/** The records of each chunk id once, in first-arrival order: what a deduping receiver keeps. */
function dedupByChunk(messages: readonly { chunk?: string; records: FluentRecord[] }[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const m of messages) {
    if (m.chunk !== undefined) {
      if (seen.has(m.chunk)) continue;
      seen.add(m.chunk);
    }
    out.push(...m.records.map((r) => r.record.log!));
  }
  return out;
}

test('a receiver that hangs up before acking gets the same chunk id again; deduped, every line once', async () => {
  const N = 40;
  // The first two chunks are cut off before their ack: each is resent whole, same id.
  const r = await fluentdReceiver(0, (_chunk, n) => (n < 2 ? 'hang-up' : 'ack'));
  try {
    const id = ok(
      await daemon.d.docker([
        'run',
        '-d',
        ...fluentdFlags(r.port, 'fluentd-request-ack=true', 'fluentd-retry-wait=100ms'),
        'busybox',
        'sh',
        '-c',
        countingScript('hang', N, 'usleep 20000'),
      ]),
    ).trim();
    await waitFor('every line', () => new Set(r.got.map((g) => g.record.log)).size >= N, 30_000);
    ok(await daemon.d.docker(['wait', id]));
    const first = r.messages[0]!;
    const second = r.messages[1]!;
    assert.ok(first.chunk, 'acks were asked for');
    // The resend of the first batch: same id, same records.
    assert.equal(second.chunk, first.chunk, 'the unacknowledged batch came again under its id');
    assert.deepEqual(
      second.records.map((x) => x.record.log),
      first.records.map((x) => x.record.log),
    );
    assert.deepEqual(dedupByChunk(r.messages), countedLines('hang', N));
    // Different batches have different ids.
    const ids = r.messages.map((m) => m.chunk!);
    assert.ok(new Set(ids).size >= ids.length - 2, JSON.stringify(ids));
  } finally {
    await r.close();
  }
});

test('kill -9 of berthd with a batch unacknowledged: the next berthd resends it under the same chunk id', async () => {
  const N = 30;
  // Chunk 0 is never acked: it is in flight when berthd dies.
  const r = await fluentdReceiver(0, (_chunk, n) => (n === 0 ? 'ignore' : 'ack'));
  try {
    ok(
      await daemon.d.docker([
        'run',
        '-d',
        '--name',
        'inflight',
        ...fluentdFlags(r.port, 'fluentd-request-ack=true'),
        'busybox',
        'sh',
        '-c',
        `${countingScript('kill', N)}; sleep 1`,
      ]),
    );
    await waitFor('the first batch', () => r.messages.length >= 1);
    const first = r.messages[0]!;
    await daemon.d.kill9();
    daemon.d = await daemon.d.restart();
    await waitFor('the first batch again', () => r.messages.length >= 2, 30_000);
    assert.equal(r.messages[1]!.chunk, first.chunk);
    assert.deepEqual(
      r.messages[1]!.records.map((x) => x.record.log),
      first.records.map((x) => x.record.log),
    );
    await waitFor('every line', () => dedupByChunk(r.messages).length >= N, 30_000);
    assert.deepEqual(dedupByChunk(r.messages), countedLines('kill', N));
  } finally {
    await r.close();
  }
});

test('fluentd-buffer-limit caps the records of one Forward message; every line arrives in order', async () => {
  const r = await fluentdReceiver();
  try {
    const N = 25;
    const id = ok(
      await daemon.d.docker([
        'run',
        '-d',
        ...fluentdFlags(r.port, 'fluentd-buffer-limit=4'),
        'busybox',
        'sh',
        '-c',
        countingScript('lim', N),
      ]),
    ).trim();
    ok(await daemon.d.docker(['wait', id]));
    await waitFor('every line', () => r.got.length >= N);
    assert.deepEqual(
      r.got.map((g) => g.record.log),
      countedLines('lim', N),
    );
    const sizes = r.messages.map((m) => m.records.length);
    assert.ok(
      sizes.every((n) => n <= 4),
      `records per message: ${sizes.join(' ')}`,
    );
    assert.ok(r.messages.length >= Math.ceil(N / 4), `${r.messages.length} messages`);
    // Docker takes the limit with size units; a bad one is refused at create, naming it.
    const bad = await daemon.d.docker([
      'create',
      '--log-driver',
      'fluentd',
      '--log-opt',
      'fluentd-buffer-limit=lots',
      'busybox',
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /fluentd-buffer-limit/);
    ok(
      await daemon.d.docker([
        'create',
        '--log-driver',
        'fluentd',
        '--log-opt',
        'fluentd-async=true',
        '--log-opt',
        'fluentd-buffer-limit=1m',
        'busybox',
      ]),
    );
  } finally {
    await r.close();
  }
});
