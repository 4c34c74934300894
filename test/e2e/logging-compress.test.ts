// Compressed rotated logs: json-file `compress=true` (and `local`, which compresses by default)
// gzip the rotated files, `docker logs` (all, --tail) still reads them in order; the dual-logging
// cache of a remote driver compresses by default (`cache-compress`), but only the files its
// shipper has delivered: lines written while the receiver is down still all arrive.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { fluentdReceiver, waitFor } from '../helpers/log-receivers.ts';

const daemon = useBusyboxDaemon();

async function logFiles(id: string): Promise<string[]> {
  const dir = path.join(daemon.d.dataRoot, 'containers', id);
  return (await fsp.readdir(dir)).filter((f) => f.startsWith('ctr.log')).sort();
}

/** Numbered lines in bursts, so the rotation (checked every 200 ms) keeps up. */
const burstScript = (prefix: string, n: number) =>
  `i=0; while [ $i -lt ${n} ]; do echo "${prefix}-$i-padding-padding-padding"; i=$((i+1)); if [ $((i % 50)) = 0 ]; then sleep 0.3; fi; done`;

function assertConsecutive(lines: string[], prefix: string, last: number): void {
  assert.equal(lines.at(-1), `${prefix}-${last}-padding-padding-padding`);
  const nums = lines.map((l) => Number(new RegExp(`${prefix}-(\\d+)`).exec(l)?.[1]));
  for (let i = 1; i < nums.length; i++)
    assert.equal(nums[i], nums[i - 1]! + 1, `line ${i} follows line ${i - 1}`);
}

for (const [driver, opts] of [
  ['json-file', ['--log-opt', 'compress=true']],
  ['local', []],
] as const) {
  test(`${driver}${opts.length ? ' compress=true' : ' (compressed by default)'}: rotated files are gzip, logs reads them in order`, async () => {
    const id = ok(
      await daemon.d.docker([
        'run',
        '-d',
        '--log-driver',
        driver,
        '--log-opt',
        'max-size=8k',
        '--log-opt',
        'max-file=4',
        ...opts,
        'busybox',
        'sh',
        '-c',
        burstScript('z', 600),
      ]),
    ).trim();
    ok(await daemon.d.docker(['wait', id]));
    const dir = path.join(daemon.d.dataRoot, 'containers', id);
    const files = await logFiles(id);
    const gz = files.filter((f) => /^ctr\.log\.\d+\.gz$/.test(f));
    assert.ok(gz.length >= 2, `compressed rotated files: ${files.join(' ')}`);
    assert.ok(
      !files.includes('ctr.log.4.gz'),
      `max-file=4 keeps ctr.log and three rotated: ${files.join(' ')}`,
    );
    // Rotated files are compressed once conmon reopened; the newest may still be plain.
    assert.ok(files.filter((f) => /^ctr\.log\.\d+$/.test(f)).length <= 1, files.join(' '));
    const raw = await fsp.readFile(path.join(dir, gz[0]!));
    assert.deepEqual([...raw.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
    assert.match(gunzipSync(raw).toString(), /stdout F z-\d+-padding/);
    const lines = ok(await daemon.d.docker(['logs', id]))
      .trim()
      .split('\n');
    assertConsecutive(lines, 'z', 599);
    assert.ok(lines.length > (2 * 8 * 1024) / 60, `${lines.length} lines: more than the live file holds`);
    const tail = ok(await daemon.d.docker(['logs', '--tail', '300', id]))
      .trim()
      .split('\n');
    assert.deepEqual(tail, lines.slice(-300));
    // No temp file of the decompression is left behind.
    const left = (await fsp.readdir(dir)).filter((f) => f.startsWith('.berth-tmp-'));
    assert.deepEqual(left, []);
  });
}

test("local with max-size alone keeps Docker's default five files, compressed; inspect shows only the option given", async () => {
  const id = ok(
    await daemon.d.docker([
      'run',
      '-d',
      '--log-driver',
      'local',
      '--log-opt',
      'max-size=4k',
      'busybox',
      'sh',
      '-c',
      burstScript('d', 700),
    ]),
  ).trim();
  ok(await daemon.d.docker(['wait', id]));
  const files = await logFiles(id);
  // ctr.log and four rotated: the fifth is dropped (700 lines are about 12 files of 4k).
  assert.ok(files.includes('ctr.log.4.gz') || files.includes('ctr.log.4'), files.join(' '));
  assert.ok(!files.some((f) => /^ctr\.log\.([5-9]|\d\d+)/.test(f)), files.join(' '));
  assert.ok(files.filter((f) => f.endsWith('.gz')).length >= 3, `compressed: ${files.join(' ')}`);
  assert.deepEqual(
    JSON.parse(ok(await daemon.d.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', id]))),
    { Type: 'local', Config: { 'max-size': '4k' } },
  );
  const lines = ok(await daemon.d.docker(['logs', id]))
    .trim()
    .split('\n');
  assertConsecutive(lines, 'd', 699);
  assert.ok(lines.length < 700, `${lines.length} lines: the oldest files were dropped`);
});

test('local with max-file=1 is refused unless compress=false, as Docker', async () => {
  const r = await daemon.d.docker(['create', '--log-driver', 'local', '--log-opt', 'max-file=1', 'busybox']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /compression cannot be enabled when max file count is 1/);
  const id = ok(
    await daemon.d.docker([
      'create',
      '--log-driver',
      'local',
      '--log-opt',
      'max-file=1',
      '--log-opt',
      'compress=false',
      'busybox',
    ]),
  ).trim();
  ok(await daemon.d.docker(['rm', id]));
});

test('json-file compress=true without rotation is refused at create, naming it', async () => {
  const r = await daemon.d.docker(['create', '--log-opt', 'compress=true', 'busybox']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /compress cannot be true when max-file is less than 2 or max-size is not set/);
  const bad = await daemon.d.docker([
    'create',
    '--log-opt',
    'max-size=1m',
    '--log-opt',
    'max-file=2',
    '--log-opt',
    'compress=maybe',
    'busybox',
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /compress/);
});

test('fluentd cache: rotated files stay plain until delivered, then are compressed; every line arrives', async () => {
  const probe = await fluentdReceiver();
  const port = probe.port;
  await probe.close();
  const sig = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-logsig-'));
  try {
    // Phase one while the receiver is down; phase two once the test says go (bounded wait).
    const script = `${burstScript('a', 200)}; n=0; while [ ! -e /sig/go ] && [ $n -lt 600 ]; do usleep 50000; n=$((n+1)); done; ${burstScript('b', 200)}`;
    const id = ok(
      await daemon.d.docker([
        'run',
        '-d',
        '-v',
        `${sig}:/sig`,
        '--log-driver',
        'fluentd',
        '--log-opt',
        `fluentd-address=127.0.0.1:${port}`,
        '--log-opt',
        'fluentd-async=true',
        '--log-opt',
        'fluentd-retry-wait=100ms',
        '--log-opt',
        'cache-max-size=4k',
        '--log-opt',
        'cache-max-file=10',
        'busybox',
        'sh',
        '-c',
        script,
      ]),
    ).trim();
    // Phase one rotated the cache, but nothing was delivered: nothing may be compressed.
    const rotated = async () => (await logFiles(id)).filter((f) => f !== 'ctr.log');
    const end = Date.now() + 20_000;
    while (Date.now() < end && (await rotated()).length < 2) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    const held = await rotated();
    assert.ok(held.length >= 2, `rotated: ${held.join(' ')}`);
    assert.deepEqual(
      held.filter((f) => f.endsWith('.gz')),
      [],
      'undelivered files are kept plain for the shipper',
    );
    const r = await fluentdReceiver(port);
    try {
      await waitFor(
        'phase one',
        () => r.got.filter((g) => g.record.log!.startsWith('a-')).length >= 200,
        30_000,
      );
      await fsp.writeFile(path.join(sig, 'go'), '');
      ok(await daemon.d.docker(['wait', id]));
      await waitFor('phase two', () => r.got.length >= 400, 30_000);
      const logs = r.got.map((g) => g.record.log!);
      assert.deepEqual(
        logs.slice(0, 200),
        Array.from({ length: 200 }, (_, i) => `a-${i}-padding-padding-padding`),
      );
      assert.deepEqual(
        logs.slice(200, 400),
        Array.from({ length: 200 }, (_, i) => `b-${i}-padding-padding-padding`),
      );
      // Delivered files were compressed by the rotations of phase two.
      const after = await logFiles(id);
      assert.ok(
        after.some((f) => f.endsWith('.gz')),
        `compressed once delivered: ${after.join(' ')}`,
      );
      // docker logs reads the cache across plain and compressed files: what it kept, in order.
      const cached = ok(await daemon.d.docker(['logs', id]))
        .trim()
        .split('\n');
      assert.ok(cached.length > 100, `${cached.length} lines cached`);
      assert.deepEqual(cached, logs.slice(0, 400).slice(-cached.length));
    } finally {
      await r.close();
    }
  } finally {
    await fsp.rm(sig, { recursive: true, force: true });
  }
});
