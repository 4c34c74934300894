// npm run bench: medians and ratios measured side by side in one run.
//  1. CLI start-up: `berth --version` vs `docker --version`; `berth images` vs `docker images`
//     against the same berthd.
//  2. Layer extraction: archive.applyLayer vs GNU `tar -x` of the same layer.
//  3. `berth load` of a ~200 MB multi-layer archive vs `tar -x` of the same archive.
// Container start, exec and ps against the runc and docker CLI floors: scripts/bench-floors.ts.
// Runs alternate between the candidates so machine noise hits both alike.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, promises as fsp, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyLayer } from '../src/archive/index.ts';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';
import { dockerLegacyArchive, makeTar } from '../test/helpers/tarballs.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

function timeCmd(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const dt = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return dt;
}

async function timeAsync(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function row(name: string, a: number[], b: number[], aName: string, bName: string): void {
  const ma = median(a);
  const mb = median(b);
  console.log(
    `${name.padEnd(34)} ${aName}: ${ms(ma).padStart(10)}   ${bName}: ${ms(mb).padStart(10)}   ratio ${(ma / mb).toFixed(2)}×`,
  );
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const d = await startTestDaemon();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  try {
    const env = { DOCKER_HOST: d.host, BERTH_HOST: d.host, DOCKER_CONFIG: path.join(d.dir, 'docker-config') };
    const berth = path.join(ROOT, 'bin/berth');
    await d.berth(['import', busyboxTar(), 'busybox:latest']);
    const N = 15;

    console.log(`\n== CLI start-up (${N} runs each, median)`);
    const bv: number[] = [];
    const dv: number[] = [];
    const bi: number[] = [];
    const di: number[] = [];
    for (let i = 0; i < N; i++) {
      bv.push(timeCmd(berth, ['--version'], env));
      dv.push(timeCmd('docker', ['--version'], env));
      bi.push(timeCmd(berth, ['images'], env));
      di.push(timeCmd('docker', ['images'], env));
    }
    row('--version', bv, dv, 'berth', 'docker');
    row('images (same berthd)', bi, di, 'berth', 'docker');

    console.log('\n== layer extraction (5 runs each, median)');
    const entries = [];
    for (let i = 0; i < 2000; i++) entries.push({ name: `small/d${i % 40}/f${i}`, body: randomBytes(2048) });
    for (let i = 0; i < 3; i++) entries.push({ name: `big/f${i}`, body: randomBytes(20 << 20) });
    const layerFile = path.join(tmp, 'layer.tar');
    writeFileSync(layerFile, await makeTar(entries));
    const sizeMb = (await fsp.stat(layerFile)).size / 1e6;
    const ta: number[] = [];
    const tb: number[] = [];
    // One untimed run: berthd is a long-running process, so measure with a warm JIT.
    const warm = path.join(tmp, 'warm');
    await fsp.mkdir(warm);
    await applyLayer(createReadStream(layerFile, { highWaterMark: 1 << 20 }), warm);
    await fsp.rm(warm, { recursive: true });
    for (let i = 0; i < 5; i++) {
      const a = path.join(tmp, `a${i}`);
      const b = path.join(tmp, `b${i}`);
      await fsp.mkdir(a);
      await fsp.mkdir(b);
      // Flush dirty pages before each timed run and alternate the order, so neither side pays
      // for the other's writeback.
      const runBerth = async () => {
        execFileSync('sync');
        ta.push(
          await timeAsync(
            async () => void (await applyLayer(createReadStream(layerFile, { highWaterMark: 1 << 20 }), a)),
          ),
        );
      };
      const runTar = () => {
        execFileSync('sync');
        tb.push(timeCmd('tar', ['-xf', layerFile, '-C', b]));
      };
      if (i % 2 === 0) {
        await runBerth();
        runTar();
      } else {
        runTar();
        await runBerth();
      }
      await fsp.rm(a, { recursive: true });
      await fsp.rm(b, { recursive: true });
    }
    row(`applyLayer, ${sizeMb.toFixed(0)} MB / 2003 files`, ta, tb, 'berth', 'tar');
    console.log(
      `${''.padEnd(34)} throughput: berth ${(sizeMb / (median(ta) / 1000)).toFixed(0)} MB/s, tar ${(sizeMb / (median(tb) / 1000)).toFixed(0)} MB/s, berth/tar ${(median(tb) / median(ta)).toFixed(2)}×`,
    );

    console.log('\n== load of a multi-layer archive (3 runs each, median)');
    const layers: Buffer[] = [];
    for (let i = 0; i < 10; i++) {
      const files = [{ name: `layer${i}/big`, body: randomBytes(18 << 20) }];
      for (let j = 0; j < 200; j++) files.push({ name: `layer${i}/small/${j}`, body: randomBytes(4096) });
      layers.push(await makeTar(files));
    }
    const { tar } = await dockerLegacyArchive([{ layers, repoTags: ['bench/big:1'] }]);
    const archive = path.join(tmp, 'big.tar');
    writeFileSync(archive, tar);
    const archMb = tar.length / 1e6;
    const la: number[] = [];
    const lb: number[] = [];
    for (let i = 0; i < 3; i++) {
      la.push(timeCmd(berth, ['load', '-q', '-i', archive], env));
      timeCmd(berth, ['rmi', 'bench/big:1'], env);
      const b = path.join(tmp, `x${i}`);
      await fsp.mkdir(b);
      lb.push(timeCmd('tar', ['-xf', archive, '-C', b]));
      await fsp.rm(b, { recursive: true });
    }
    row(`load ${archMb.toFixed(0)} MB, 10 layers`, la, lb, 'berth load', 'tar -x');
    console.log(`${''.padEnd(34)} berth load throughput: ${(archMb / (median(la) / 1000)).toFixed(0)} MB/s`);
  } finally {
    await d.cleanup();
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

await main();
