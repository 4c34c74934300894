// Remote delivery alone (issue 17): the shipper over a k8s-file cache of BENCH_SHIP_BYTES
// (default 100 MB of 100-byte lines, as the logging bench's container writes) to a receiver in a
// child process that reads and discards the bytes (so the shipper's CPU is what is measured, not
// a decoder's). Rows: the parse alone (parseMessages over the file in 1 MiB reads), and the whole
// shipper per driver (fluentd, fluentd with acks, syslog tcp, gelf tcp): file to socket, cursor
// checkpoints included. Prints medians over BENCH_SHIP_ROUNDS (default 3) in MB/s of log content.
//   node --import tsx scripts/bench-shipper.ts
import { fork } from 'node:child_process';
import { mkdtempSync, openSync, promises as fsp, rmSync, writeSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fluentdDriver } from '../src/logs/drivers/fluentd.ts';
import { gelfDriver } from '../src/logs/drivers/gelf.ts';
import { syslogDriver } from '../src/logs/drivers/syslog.ts';
import type { ContainerLogInfo, DriverSpec } from '../src/logs/drivers/types.ts';
import { LogShipper, parseMessages } from '../src/logs/shipper.ts';

const BYTES = Number(process.env.BENCH_SHIP_BYTES ?? 100_000_000);
const ROUNDS = Number(process.env.BENCH_SHIP_ROUNDS ?? 3);
const LINE = 'abcdefghijklmnopqrstuvwxyz'.repeat(4).slice(0, 99);

/** The child: a tcp server that reads everything; answers fluentd acks when asked by the parent. */
async function receiverChild(): Promise<void> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    let tail = Buffer.alloc(0);
    s.on('data', (data: Buffer) => {
      // fluentd with acks: the option map carries `chunk` (a 24-char base64 id after 0xa5 "chunk");
      // the bench's lines never contain that word. The tail keeps an id split between reads.
      const b = tail.length > 0 ? Buffer.concat([tail, data]) : data;
      let done = 0;
      for (let at = b.indexOf('chunk'); at >= 0 && at + 6 + 24 <= b.length; at = b.indexOf('chunk', done)) {
        const len = b[at + 5]! & 0x1f;
        const id = b.subarray(at + 6, at + 6 + len);
        s.write(
          Buffer.concat([Buffer.from([0x81, 0xa3]), Buffer.from('ack'), Buffer.from([0xa0 | id.length]), id]),
        );
        done = at + 6 + len;
      }
      tail = Buffer.from(b.subarray(Math.max(done, b.length - 64)));
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as net.AddressInfo).port });
  });
  process.on('disconnect', () => process.exit(0));
}

/** A k8s-file cache of `bytes` of content in 100-byte lines, with conmon's timestamps. */
async function makeCache(file: string, bytes: number): Promise<{ lines: number; content: number }> {
  const fd = openSync(file, 'w');
  const lines = Math.ceil(bytes / (LINE.length + 1));
  const base = Date.UTC(2026, 11, 8, 3, 0, 0);
  let chunk: string[] = [];
  for (let i = 0; i < lines; i++) {
    const ns = String((i * 997) % 1_000_000_000).padStart(9, '0');
    const t = new Date(base + Math.floor(i / 10000) * 1000).toISOString().slice(0, 19);
    chunk.push(`${t}.${ns}+00:00 ${i % 50 === 0 ? 'stderr' : 'stdout'} F ${LINE}\n`);
    if (chunk.length === 10000) {
      writeSync(fd, chunk.join(''));
      chunk = [];
    }
  }
  writeSync(fd, chunk.join(''));
  closeSync(fd);
  return { lines, content: lines * (LINE.length + 1) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function parseOnly(file: string, lines: number): Promise<number> {
  const fh = await fsp.open(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let pos = 0;
  let n = 0;
  const t0 = process.hrtime.bigint();
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    const r = parseMessages(buf.subarray(0, bytesRead), pos, false);
    n += r.messages.length;
    pos = r.end;
  }
  await fh.close();
  if (n !== lines) throw new Error(`parse: ${n} of ${lines} lines`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const info: ContainerLogInfo = {
  id: 'a'.repeat(64),
  name: 'bench',
  imageName: 'busybox',
  imageId: `sha256:${'b'.repeat(64)}`,
  created: '2026-12-08T03:00:00.000000000Z',
  command: 'yes',
  labels: {},
  env: [],
  daemonName: 'berth',
  hostname: 'host',
};

async function ship(
  dir: string,
  file: string,
  spec: DriverSpec,
  opts: Record<string, string>,
  lines: number,
): Promise<number> {
  const cursorFile = path.join(dir, 'log.cursor');
  await fsp.rm(cursorFile, { force: true });
  const sink = spec.remote!.open(info, opts, { journalSocket: '/nonexistent' });
  const s = new LogShipper({ file, maxFiles: 1, cursorFile, sink, retryWaitMs: 100 });
  const t0 = process.hrtime.bigint();
  await s.finish();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (s.delivered !== lines) throw new Error(`${spec.name}: delivered ${s.delivered} of ${lines} lines`);
  return secs;
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--receiver'], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m) => resolve((m as { port: number }).port)),
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-shipper-'));
  try {
    const file = path.join(dir, 'ctr.log');
    const { lines, content } = await makeCache(file, BYTES);
    const size = (await fsp.stat(file)).size;
    const addr = `127.0.0.1:${port}`;
    const rows: [string, () => Promise<number>][] = [
      ['parse only', () => parseOnly(file, lines)],
      ['fluentd', () => ship(dir, file, fluentdDriver, { 'fluentd-address': `tcp://${addr}` }, lines)],
      [
        'fluentd + acks',
        () =>
          ship(
            dir,
            file,
            fluentdDriver,
            { 'fluentd-address': `tcp://${addr}`, 'fluentd-request-ack': 'true' },
            lines,
          ),
      ],
      ['syslog tcp', () => ship(dir, file, syslogDriver, { 'syslog-address': `tcp://${addr}` }, lines)],
      ['gelf tcp', () => ship(dir, file, gelfDriver, { 'gelf-address': `tcp://${addr}` }, lines)],
    ];
    const pick = process.env.BENCH_SHIP_ROWS?.split(',');
    const chosen = rows.filter(([name]) => !pick || pick.includes(name));
    const times = new Map<string, number[]>(chosen.map(([n]) => [n, []]));
    // Interleaved rounds: the machine's load changes over a run.
    for (let r = 0; r < ROUNDS; r++) for (const [name, run] of chosen) times.get(name)!.push(await run());
    console.log(
      `shipper: ${(content / 1e6).toFixed(0)} MB of content (${lines} lines, ${(size / 1e6).toFixed(0)} MB of k8s-file), ${ROUNDS} rounds, load ${os.loadavg()[0]!.toFixed(1)}`,
    );
    for (const [name, ts] of times) {
      const m = median(ts);
      console.log(
        `  ${name.padEnd(16)} median ${(content / 1e6 / m).toFixed(1).padStart(6)} MB/s  (${ts.map((t) => `${t.toFixed(2)} s`).join(', ')})`,
      );
    }
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--receiver')) void receiverChild();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
