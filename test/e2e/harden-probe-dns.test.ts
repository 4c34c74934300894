// Issue 14 probe: the embedded DNS server of a user network is reachable by every container on
// it. Each query for a name that is not a container was forwarded on a fresh UDP socket held
// for up to 2 s per upstream, with no bound: a container flooding queries used up berthd's
// file descriptors (every other operation then failed). Forwards in flight are now capped and
// the server keeps answering container names. The flood is sent from the host to the gateway
// address, which is exactly what a container on the network can reach; the upstream is a
// loopback address where nothing listens, so no query leaves the machine.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
let gateway = '';

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function query(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2); // RD
  head.writeUInt16BE(1, 4); // one question
  return Buffer.concat([head, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

const fdCount = () => readdirSync(`/proc/${d.pid}/fd`).length;

before(async () => {
  d = await startTestDaemon({ config: { dns: ['127.0.0.2'] } });
  ok(await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']));
  gateway = `10.198.${d.netByte}.1`;
  ok(await d.docker(['network', 'create', '--subnet', `10.198.${d.netByte}.0/24`, 'probe-dns']));
  ok(await d.docker(['run', '-d', '--name', 'target', '--network', 'probe-dns', 'busybox', 'sleep', '120']));
});

after(async () => {
  await d?.docker(['rm', '-f', 'target']);
  await d?.docker(['network', 'rm', 'probe-dns']);
  await d?.cleanup();
});

test('a flood of forwarded queries holds a bounded number of sockets; names still resolve', async () => {
  const base = fdCount();
  const answers = new Map<number, Buffer>();
  const sock2 = dgram.createSocket('udp4');
  sock2.on('message', (m) => answers.set(m.readUInt16BE(0), m));
  await new Promise<void>((r) => sock2.bind(0, () => r()));
  try {
    // 6000 distinct external names, sent in bursts (bounded in count and time).
    const send = (id: number, name: string) =>
      new Promise<void>((r) => sock2.send(query(id, name), 53, gateway, () => r()));
    let peak = base;
    for (let i = 0; i < 6000; i++) {
      await send(i + 1, `n${i}.flood.example`);
      if (i % 500 === 0) peak = Math.max(peak, fdCount());
    }
    await new Promise((r) => setTimeout(r, 200));
    peak = Math.max(peak, fdCount());
    assert.ok(peak - base < 1200, `berthd held ${peak - base} more descriptors during the flood`);
    // While the flood's forwards are still pending, a container name is answered.
    await send(60000, 'target');
    const until = Date.now() + 3000;
    while (!answers.has(60000) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const a = answers.get(60000);
    assert.ok(a, 'the container name was answered during the flood');
    assert.equal(a.readUInt16BE(6), 1, 'one A record');
    const t = performance.now();
    assert.equal((await d.request('GET', '/_ping')).status, 200);
    assert.ok(performance.now() - t < 1000);
  } finally {
    sock2.close();
  }
  // The pending forwards time out and their sockets close.
  const end = Date.now() + 8000;
  while (fdCount() - base > 50 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  assert.ok(fdCount() - base <= 50, `${fdCount() - base} descriptors left after the flood`);
});
