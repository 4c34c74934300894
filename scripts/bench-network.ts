// npm run bench:network — the network's costs, measured side by side in one run:
//  1. `berth run --rm --network none busybox true` vs the same on the default bridge (the
//     bridge's cost: netns, veth pair, addresses).
//  2. Download throughput of a 100 MB file from busybox httpd through a published port on
//     loopback (berthd's proxy) vs from the container's address directly.
//  3. Embedded DNS: round trip of an A query for a container name, asked from the host.
// Traffic goes only to loopback and to the benchmark's own containers.
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import http from 'node:http';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function timeCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return performance.now() - t;
}

function download(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    let bytes = 0;
    http
      .get({ host, port, path: '/big', timeout: 30_000 }, (res) => {
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve(bytes / 1e6 / ((performance.now() - t) / 1000)));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function dnsQuery(server: string, name: string): Promise<number> {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const q = Buffer.concat([
    Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels,
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('DNS timeout'));
    }, 2000);
    const t = performance.now();
    s.on('message', (r) => {
      clearTimeout(timer);
      s.close();
      if (r.readUInt16BE(6) !== 1) reject(new Error(`no answer for ${name}`));
      else resolve(performance.now() - t);
    });
    s.send(q, 53, server);
  });
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const d = await startTestDaemon();
  try {
    const env = { DOCKER_HOST: d.host, BERTH_HOST: d.host };
    const berth = path.join(ROOT, 'bin/berth');
    await d.berth(['import', busyboxTar(), 'busybox:latest']);
    const N = 15;
    const none: number[] = [];
    const bridge: number[] = [];
    for (let i = 0; i < N; i++) {
      none.push(timeCmd(berth, ['run', '--rm', '--network', 'none', 'busybox', 'true'], env));
      bridge.push(timeCmd(berth, ['run', '--rm', 'busybox', 'true'], env));
    }
    const [mn, mb] = [median(none), median(bridge)];
    console.log(
      `run --rm true (${N} runs, median)   none: ${mn.toFixed(1)} ms   bridge: ${mb.toFixed(1)} ms   network cost ${(mb - mn).toFixed(1)} ms`,
    );

    const sub = `10.198.${d.netByte}`;
    await d.berth(['network', 'create', '--subnet', `${sub}.0/24`, 'benchnet']);
    const r = await d.berth([
      'run',
      '-d',
      '--name',
      'srv',
      '--network',
      'benchnet',
      '-p',
      '127.0.0.1::80',
      'busybox',
      'sh',
      '-c',
      'mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=100 2>/dev/null && httpd -f -p 80 -h /www',
    ]);
    if (r.code !== 0) throw new Error(r.stderr);
    const port = Number((await d.berth(['port', 'srv', '80'])).stdout.trim().split(':')[1]);
    const ip = (
      await d.berth(['inspect', '-f', '{{.NetworkSettings.Networks.benchnet.IPAddress}}', 'srv'])
    ).stdout.trim();
    for (let i = 0; i < 50; i++) {
      if (
        await download(ip, 80).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const viaProxy: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < 5; i++) {
      viaProxy.push(await download('127.0.0.1', port));
      direct.push(await download(ip, 80));
    }
    const [mp, md] = [median(viaProxy), median(direct)];
    console.log(
      `100 MB download (5 runs, median)     published port: ${mp.toFixed(0)} MB/s   direct: ${md.toFixed(0)} MB/s   ratio ${(mp / md).toFixed(2)}×`,
    );

    const lat: number[] = [];
    for (let i = 0; i < 200; i++) lat.push(await dnsQuery(`${sub}.1`, 'srv'));
    console.log(`embedded DNS A query for a container name (200, median): ${median(lat).toFixed(2)} ms`);
    await d.berth(['rm', '-f', 'srv']);
  } finally {
    await d.cleanup();
  }
}

await main();
