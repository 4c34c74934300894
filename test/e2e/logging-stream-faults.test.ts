// Faults of the stream transports without an application ack (gelf tcp, syslog tcp) against
// receivers on 127.0.0.1: the receiver down at start (blocking: the start fails as Docker's;
// non-blocking: the container runs and its lines arrive once the receiver is up), and the receiver
// killed mid-stream and restarted on its port. docs/logging.md ("Guarantee and its limits") says
// what TCP without acks keeps: the order of first arrivals, at most the batch whose write failed
// again, and lines lost only from the bytes the dead receiver had not read (one run of lines).
import assert from 'node:assert/strict';
import type net from 'node:net';
import { test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import {
  countedLines,
  countingScript,
  firstArrivals,
  fluentdFlags,
  fluentdReceiver,
  streamReceiver,
  waitFor,
} from '../helpers/log-receivers.ts';

const daemon = useBusyboxDaemon();

/** A tcp receiver that keeps each connection's bytes apart (a cut-off message stays its own). */
async function perConnection(port?: number) {
  const conns: Buffer[][] = [];
  const r = await streamReceiver({
    ...(port ? { port } : {}),
    onConn: (s: net.Socket) => {
      const mine: Buffer[] = [];
      conns.push(mine);
      s.on('data', (b: Buffer) => mine.push(b));
    },
  });
  return { ...r, conns };
}

/** The complete messages of every connection, split at `sep` (a cut-off last piece is dropped). */
function messages(conns: readonly Buffer[][], sep: string): string[] {
  return conns.flatMap((c) => Buffer.concat(c).toString().split(sep).slice(0, -1));
}

const gelfLines = (conns: readonly Buffer[][]) =>
  messages(conns, '\0').map((m) => String((JSON.parse(m) as { short_message: string }).short_message));
const syslogLines = (conns: readonly Buffer[][]) =>
  messages(conns, '\n').map((m) => /: (\S+)$/.exec(m)?.[1] ?? `unparsed: ${m}`);

test('gelf tcp, receiver down at start: blocking refuses to start, non-blocking runs and delivers once it is up', async () => {
  const probe = await streamReceiver();
  const port = probe.port;
  await probe.close();
  const opts = ['--log-driver', 'gelf', '--log-opt', `gelf-address=tcp://127.0.0.1:${port}`];
  const refused = await daemon.d.docker(['run', '--name', 'gelf-down', ...opts, 'busybox', 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    new RegExp(`failed to initialize logging driver: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`),
  );
  assert.notEqual(
    ok(await daemon.d.docker(['inspect', '-f', '{{.State.Status}}', 'gelf-down'])).trim(),
    'running',
  );
  const id = ok(
    await daemon.d.docker([
      'run',
      '-d',
      ...opts,
      '--log-opt',
      'mode=non-blocking',
      'busybox',
      'sh',
      '-c',
      countingScript('early', 5),
    ]),
  ).trim();
  assert.equal(ok(await daemon.d.docker(['wait', id])).trim(), '0');
  const r = await perConnection(port);
  try {
    await waitFor('five messages', () => gelfLines(r.conns).length >= 5, 15_000);
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(gelfLines(r.conns), ['early-0', 'early-1', 'early-2', 'early-3', 'early-4']);
  } finally {
    await r.close();
  }
});

for (const proto of ['syslog', 'gelf'] as const) {
  test(`${proto} tcp, receiver killed mid-stream and restarted: order kept, at most a batch again, one run lost at most`, async () => {
    const N = 300;
    const parse = proto === 'gelf' ? gelfLines : syslogLines;
    let r = await perConnection();
    const port = r.port;
    const address =
      proto === 'gelf' ? `gelf-address=tcp://127.0.0.1:${port}` : `syslog-address=tcp://127.0.0.1:${port}`;
    const id = ok(
      await daemon.d.docker([
        'run',
        '-d',
        '--log-driver',
        proto,
        '--log-opt',
        address,
        'busybox',
        'sh',
        '-c',
        countingScript('line', N, 'usleep 5000'),
      ]),
    ).trim();
    const seen: string[] = [];
    try {
      await waitFor('some lines', () => parse(r.conns).length >= 50);
      await r.close();
      seen.push(...parse(r.conns));
      await new Promise((res) => setTimeout(res, 700));
      r = await perConnection(port);
      await waitFor('the last line', () => parse(r.conns).includes(`line-${N - 1}`), 30_000);
      assert.equal(ok(await daemon.d.docker(['wait', id])).trim(), '0');
      await new Promise((res) => setTimeout(res, 300));
      seen.push(...parse(r.conns));
    } finally {
      await r.close();
    }
    const { order, again } = firstArrivals(seen);
    const nums = order.map((l) => {
      const m = /^line-(\d+)$/.exec(l);
      assert.ok(m, `not a line the container wrote: ${l}`);
      return Number(m[1]);
    });
    // Order kept: first arrivals only go up.
    for (let i = 1; i < nums.length; i++)
      assert.ok(nums[i]! > nums[i - 1]!, `line-${nums[i]} after line-${nums[i - 1]}`);
    // A failed write is sent again whole: what the receiver had read of it comes twice.
    assert.ok(again <= 50, `${again} lines came twice`);
    // What is lost is what sat unread in the dead receiver's socket: one run of lines at most.
    let gaps = 0;
    for (let i = 1; i < nums.length; i++) if (nums[i]! !== nums[i - 1]! + 1) gaps++;
    assert.equal(nums[0], 0);
    assert.equal(nums.at(-1), N - 1);
    assert.ok(gaps <= 1, `${gaps} runs of lines missing: ${N - nums.length} lines`);
  });
}

test('cache rotation waits for the shipper: a receiver down while the cache rotates once too often loses nothing', async () => {
  const probe = await fluentdReceiver();
  const port = probe.port;
  await probe.close();
  // ~21 KB of k8s-file records over 8 KB × 2 files: without the hold the second rotation would
  // delete log.1 before its lines left; with it the live file may grow to 16 KB first.
  const N = 400;
  const id = ok(
    await daemon.d.docker([
      'run',
      '-d',
      ...fluentdFlags(
        port,
        'mode=non-blocking',
        'fluentd-retry-wait=100ms',
        'cache-max-size=8k',
        'cache-max-file=2',
      ),
      'busybox',
      'sh',
      '-c',
      countingScript('hold', N, 'usleep 2000'),
    ]),
  ).trim();
  assert.equal(ok(await daemon.d.docker(['wait', id])).trim(), '0');
  const r = await fluentdReceiver(port);
  try {
    await waitFor(`${N} records`, () => r.got.length >= N, 20_000);
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(
      r.got.map((g) => g.record.log),
      countedLines('hold', N),
    );
  } finally {
    await r.close();
  }
});
