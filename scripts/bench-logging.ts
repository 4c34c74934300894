// Log drivers side by side (issue 17): 100 MB of stdout through json-file, local and fluentd (to
// a Forward receiver in this process, with and without acks). For each: the write rate (run to
// exit: conmon writing the local log), the read-back rate of `docker logs` into /dev/null, and for
// fluentd the delivery rate (start to the last record at the receiver).
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { decodeMultiStream } from '@msgpack/msgpack';
import { encode } from '@msgpack/msgpack';
import { runAsScript, startBenchDaemon } from './bench-lib.ts';

const BYTES = Number(process.env.BENCH_LOG_BYTES ?? 100_000_000);
const LINE =
  'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrs';

/** Counts the bytes of every record's `log` field (plus its newline), acking when asked. */
async function countingReceiver(): Promise<{ port: number; bytes: () => number; close: () => void }> {
  let bytes = 0;
  const server = net.createServer((s) => {
    s.on('error', () => {});
    void (async () => {
      try {
        for await (const m of decodeMultiStream(s)) {
          const msg = m as unknown[];
          for (const e of msg[1] as [unknown, { log: string }][]) bytes += Buffer.byteLength(e[1].log) + 1;
          const opt = msg[2] as { chunk?: string } | undefined;
          if (opt?.chunk) s.write(encode({ ack: opt.chunk }));
        }
      } catch {
        s.destroy();
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => bytes,
    close: () => server.close(),
  };
}

export async function benchLogging(): Promise<void> {
  const bench = await startBenchDaemon();
  const { d } = bench;
  const env = { ...process.env, ...bench.env };
  const docker = (args: string[]) =>
    execFileSync('docker', args, { env, maxBuffer: 1 << 20 })
      .toString()
      .trim();
  try {
    const rx = await countingReceiver();
    const mbs = (ms: number) => (BYTES / 1e6 / (ms / 1000)).toFixed(1);
    const rows: { name: string; write: number; read: number; raw: number; deliver?: number }[] = [];
    // The raw API read (curl, no Docker-Client agent: a frame per line) separates the CLI's cost.
    const sock = d.host.replace(/^unix:\/\//, '');
    for (const [name, opts] of [
      ['json-file', ['--log-driver', 'json-file']],
      ['local', ['--log-driver', 'local']],
      ['fluentd', ['--log-driver', 'fluentd', '--log-opt', `fluentd-address=127.0.0.1:${rx.port}`]],
      [
        'fluentd+ack',
        [
          '--log-driver',
          'fluentd',
          '--log-opt',
          `fluentd-address=127.0.0.1:${rx.port}`,
          '--log-opt',
          'fluentd-request-ack=true',
        ],
      ],
    ] as const) {
      const base = rx.bytes();
      const t0 = performance.now();
      const id = docker(['run', '-d', ...opts, 'busybox', 'sh', '-c', `yes '${LINE}' | head -c ${BYTES}`]);
      docker(['wait', id]);
      const write = performance.now() - t0;
      let deliver: number | undefined;
      if (name.startsWith('fluentd')) {
        const end = Date.now() + 120_000;
        while (rx.bytes() - base < BYTES - LINE.length && Date.now() < end)
          await new Promise((r) => setTimeout(r, 20));
        deliver = performance.now() - t0;
      }
      const t1 = performance.now();
      const r = spawnSync('sh', ['-c', `docker logs ${id} > /dev/null`], { env });
      if (r.status !== 0) throw new Error(`docker logs: ${r.stderr}`);
      const read = performance.now() - t1;
      const t2 = performance.now();
      const c = spawnSync('sh', [
        '-c',
        `curl -sf --unix-socket '${sock}' 'http://berth/containers/${id}/logs?stdout=1&stderr=1' > /dev/null`,
      ]);
      if (c.status !== 0) throw new Error(`curl of /logs: ${c.stderr}`);
      const raw = performance.now() - t2;
      docker(['rm', '-f', id]);
      rows.push({ name, write, read, raw, ...(deliver !== undefined ? { deliver } : {}) });
    }
    rx.close();
    // The same run's floors: the container writing the bytes to /dev/null (start + generator),
    // and `cat` of a log file of that size (what the disk and page cache give).
    const f0 = performance.now();
    docker(['run', '--rm', 'busybox', 'sh', '-c', `yes '${LINE}' | head -c ${BYTES} > /dev/null`]);
    const floorWrite = performance.now() - f0;
    const probe = docker(['run', '-d', 'busybox', 'sh', '-c', `yes '${LINE}' | head -c ${BYTES}`]);
    docker(['wait', probe]);
    const logFile = path.join(d.dataRoot, 'containers', probe, 'ctr.log');
    const f1 = performance.now();
    execFileSync('sh', ['-c', `cat '${logFile}' > /dev/null`]);
    const floorRead = performance.now() - f1;
    docker(['rm', '-f', probe]);
    console.log(
      `\n== log drivers: ${BYTES / 1e6} MB of stdout (docker run to exit; docker logs > /dev/null; delivered to the receiver)`,
    );
    const local = rows.find((r) => r.name === 'local')!;
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(12)} written ${mbs(r.write).padStart(6)} MB/s   read back ${mbs(r.read).padStart(6)} MB/s (API ${mbs(r.raw).padStart(6)})${
          r.deliver !== undefined
            ? `   delivered ${mbs(r.deliver).padStart(6)} MB/s (write rate ${(local.write / r.write).toFixed(2)}x local's, delivery ${(local.write / r.deliver).toFixed(2)}x)`
            : ''
        }`,
      );
    }
    console.log(
      `floor        written ${mbs(floorWrite).padStart(6)} MB/s (to /dev/null in the container)   read back ${mbs(floorRead).padStart(6)} MB/s (cat of the log file)`,
    );
    console.log(
      '(aim: read back >= 200 MB/s, written >= 150 MB/s, remote drivers within 2x of local; Docker 20.10 here: 22.7 written, 12.6 read)',
    );
  } finally {
    await d.cleanup();
  }
}

await runAsScript(import.meta, benchLogging);
