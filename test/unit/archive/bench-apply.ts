// Benchmark: applyLayer vs GNU `tar -x` on the same layer, same filesystem.
//   node --import tsx test/unit/archive/bench-apply.ts [--dir /dev/shm] [--runs 7] [--small 2000] [--big 3]
//     [--format ustar|pax|gnu] [--hwm <input chunk bytes>] [--gzip] [--keep (use on disk filesystems)]
// Not a test (no .test.ts suffix); prints medians and the throughput ratio.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { applyLayer, decompress } from '../../../src/archive/index.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: os.tmpdir() },
    runs: { type: 'string', default: '7' },
    // unmeasured runs first: berthd extracts many layers, so steady state is what matters
    warmup: { type: 'string', default: '2' },
    small: { type: 'string', default: '2000' },
    big: { type: 'string', default: '3' },
    'big-mb': { type: 'string', default: '20' },
    hwm: { type: 'string', default: String(1 << 20) },
    // ustar is what Docker/BuildKit layers look like (Go writes PAX records only when needed);
    // GNU tar's "pax" adds atime/ctime records to every entry.
    format: { type: 'string', default: 'ustar' },
    // compare applyLayer(decompress(...)) with `tar -xzf` on a gzipped layer
    gzip: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const work = fs.mkdtempSync(path.join(values.dir!, 'berth-bench-'));
const src = path.join(work, 'src');
const layer = path.join(work, 'layer.tar');
fs.mkdirSync(src);

function makeTree(): void {
  const small = Number(values.small);
  for (let i = 0; i < small; i++) {
    const d = path.join(src, `dir${i % 50}`, `sub${i % 7}`);
    fs.mkdirSync(d, { recursive: true });
    // 100 B .. 16 KiB, like a typical package's files
    fs.writeFileSync(path.join(d, `file${i}.txt`), randomBytes(100 + ((i * 7919) % 16284)));
    if (i % 40 === 0) fs.symlinkSync(`file${i}.txt`, path.join(d, `link${i}`));
  }
  for (let i = 0; i < Number(values.big); i++) {
    fs.writeFileSync(path.join(src, `big${i}.bin`), randomBytes(Number(values['big-mb']) << 20));
  }
  execFileSync('tar', [`--format=${values.format}`, '-cf', layer, '-C', src, '.']);
  if (values.gzip) {
    execFileSync('gzip', ['-f', '-6', layer]);
    fs.renameSync(`${layer}.gz`, layer);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

let outputs = 0;
/**
 * A new empty output directory, with writeback settled so it is not billed to the next run.
 * By default the previous output is removed first (right for tmpfs, where memory fills up);
 * with --keep outputs stay until the end (right for ext4 and co., where removing thousands of
 * inodes makes journal work land inside the next measurement).
 */
function fresh(name: string): string {
  if (!values.keep) {
    for (const old of fs.readdirSync(work)) {
      if (old.startsWith(`${name}-`)) fs.rmSync(path.join(work, old), { recursive: true, force: true });
    }
  }
  const d = path.join(work, `${name}-${outputs++}`);
  fs.mkdirSync(d);
  execFileSync('sync');
  return d;
}

makeTree();
const bytes = fs.statSync(layer).size;
const entries = execFileSync('tar', [values.gzip ? '-tzf' : '-tf', layer], { maxBuffer: 1 << 26 })
  .toString()
  .split('\n')
  .filter(Boolean).length;
const tarTimes: number[] = [];
const berthTimes: number[] = [];
const warmup = Number(values.warmup);
let coldMs = 0;
for (let i = -warmup; i < Number(values.runs); i++) {
  let d = fresh('tar-out');
  let t = performance.now();
  execFileSync('tar', [values.gzip ? '-xzpf' : '-xpf', layer, '-C', d]);
  if (i >= 0) tarTimes.push(performance.now() - t);
  execFileSync('sync');
  d = fresh('berth-out');
  t = performance.now();
  const input = fs.createReadStream(layer, { highWaterMark: Number(values.hwm) });
  await applyLayer(values.gzip ? decompress(input) : input, d);
  if (i === -warmup) coldMs = performance.now() - t;
  if (i >= 0) berthTimes.push(performance.now() - t);
}
const tarMs = median(tarTimes);
const berthMs = median(berthTimes);
const mbps = (ms: number): string => ((bytes / (1 << 20) / ms) * 1000).toFixed(0);
console.log(
  `layer: ${(bytes / (1 << 20)).toFixed(1)} MiB${values.gzip ? ' gzipped' : ''}, ${entries} entries, ${values.format} format, on ${values.dir}, input chunks ${values.hwm} B`,
);
console.log(
  `GNU tar -x : median ${tarMs.toFixed(1)} ms (${mbps(tarMs)} MiB/s)  runs ${tarTimes.map((x) => x.toFixed(0)).join(' ')}`,
);
console.log(
  `applyLayer : median ${berthMs.toFixed(1)} ms (${mbps(berthMs)} MiB/s)  runs ${berthTimes.map((x) => x.toFixed(0)).join(' ')}`,
);
console.log(`applyLayer first (cold, unoptimised JS) run: ${coldMs.toFixed(1)} ms`);
console.log(`throughput ratio applyLayer / tar = ${(tarMs / berthMs).toFixed(2)}x`);
fs.rmSync(work, { recursive: true, force: true });
