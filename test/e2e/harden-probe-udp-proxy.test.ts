// Issue 14 probe: a published UDP port's proxy in berthd kept one upstream socket per client
// address forever. Anyone who can reach the port (it listens on the host's network) can send
// from thousands of source ports, and every flow held a file descriptor until the container
// stopped: enough of them and berthd could not open a file. Flows now expire when idle and are
// capped per port (the least recently used is closed first).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { type DaemonHolder, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon: DaemonHolder = useBusyboxDaemon();
const fdCount = () => readdirSync(`/proc/${daemon.d.pid}/fd`).length;

test('3000 UDP client addresses hold at most the flow cap of descriptors', async () => {
  const d = daemon.d;
  ok(await d.docker(['run', '-d', '--name', 'udp', '-p', '127.0.0.1::5000/udp', 'busybox', 'sleep', '120']));
  const port = Number(/:(\d+)\s*$/.exec(ok(await d.docker(['port', 'udp', '5000/udp'])).trim())?.[1]);
  assert.ok(port > 0);
  const base = fdCount();
  let peak = base;
  // Bounded: 3000 clients, 30 at a time, each sends one datagram and closes.
  for (let i = 0; i < 3000; i += 30) {
    await Promise.all(
      Array.from({ length: 30 }, async () => {
        const s = dgram.createSocket('udp4');
        await new Promise<void>((r) => s.send(Buffer.from('x'), port, '127.0.0.1', () => r()));
        s.close();
      }),
    );
    if (i % 300 === 0) peak = Math.max(peak, fdCount());
  }
  await new Promise((r) => setTimeout(r, 300));
  peak = Math.max(peak, fdCount());
  assert.ok(peak - base <= 1024 + 20, `berthd holds ${peak - base} more descriptors after 3000 UDP clients`);
  const t = performance.now();
  assert.equal((await d.request('GET', '/_ping')).status, 200);
  assert.ok(performance.now() - t < 1000);
  ok(await d.docker(['rm', '-f', 'udp']));
  // Stopping the container closes every flow.
  const end = Date.now() + 5000;
  while (fdCount() - base > 20 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  assert.ok(fdCount() - base <= 20, `${fdCount() - base} descriptors left after the container went`);
});
