// Cost of a `span()` hook with tracing off (issue 20): the start path carries a few dozen of
// them, so each must cost next to nothing. Times a million calls through span() against a
// million direct calls of the same function, sync and async, and prints the extra per call.
import { setTraceEnabled, span } from '../src/base/trace.ts';

const N = 1_000_000;
let sink = 0;
const work = () => {
  sink = (sink + 1) | 0;
  return sink;
};
const asyncWork = async () => work();

function perCallNs(fn: () => void): number {
  fn(); // warm-up: let the JIT settle before the timed pass
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / N;
}

async function perCallNsAsync(fn: () => Promise<void>): Promise<number> {
  await fn();
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / N;
}

setTraceEnabled(false);
const rows: [string, number, number][] = [];
for (let round = 0; round < 3; round++) {
  const direct = perCallNs(() => {
    for (let i = 0; i < N; i++) work();
  });
  const hooked = perCallNs(() => {
    for (let i = 0; i < N; i++) span('bench.step', work);
  });
  const directA = await perCallNsAsync(async () => {
    for (let i = 0; i < N; i++) await asyncWork();
  });
  const hookedA = await perCallNsAsync(async () => {
    for (let i = 0; i < N; i++) await span('bench.step', asyncWork);
  });
  rows.push(['sync', direct, hooked], ['async', directA, hookedA]);
}
console.log(`span() with tracing off, ${N} calls per pass (3 passes each, ns per call)`);
for (const [kind, d, h] of rows)
  console.log(
    `${kind.padEnd(6)} direct ${d.toFixed(1).padStart(6)}   span ${h.toFixed(1).padStart(6)}   extra ${(h - d).toFixed(1).padStart(6)}`,
  );
if (sink === -1) console.log('unreachable');
