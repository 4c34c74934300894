// npm run bench:trace: 20 `docker run --rm busybox true` against a berthd started with tracing,
// then the median time of each traced step over the runs (a step seen several times in one run,
// such as spawn.ip, is summed for that run first). Steps nest: a line includes those under it.
import { spawnSync } from 'node:child_process';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const RUNS = 20;

interface Rec {
  id: number;
  label: string;
  ms: number;
  spans: { name: string; ms: number; depth: number }[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};

async function main(): Promise<void> {
  const network = process.argv.includes('--network-none') ? ['--network', 'none'] : [];
  const d = await startTestDaemon({ env: { BERTH_TRACE: '1' } });
  try {
    const imp = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
    if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
    const env = { ...process.env, DOCKER_HOST: `unix://${d.socket}` };
    // One warm-up run: first-use costs (bridge creation, module loading) are not the steady state.
    spawnSync('docker', ['run', '--rm', ...network, 'busybox', 'true'], { env });
    const read = async (since: number) =>
      (
        JSON.parse((await d.request('GET', `/_berth/trace?since=${since}`)).body.toString()) as {
          records: Rec[];
        }
      ).records;
    let since = Math.max(0, ...(await read(0)).map((r) => r.id));
    const perStep = new Map<string, number[]>();
    const wall: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = spawnSync('docker', ['run', '--rm', ...network, 'busybox', 'true'], { env, timeout: 60_000 });
      wall.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`docker run failed: ${r.stderr}`);
      // The --rm removal finishes after the CLI returns at most by a moment: let it land.
      await new Promise((res) => setTimeout(res, 200));
      const recs = await read(since);
      since = Math.max(since, ...recs.map((x) => x.id));
      const sums = new Map<string, number>();
      const add = (k: string, ms: number) => sums.set(k, (sums.get(k) ?? 0) + ms);
      for (const rec of recs) {
        if (rec.label.startsWith('GET /_berth/')) continue;
        if (rec.label.includes(' ')) add(`http ${rec.label}`, rec.ms);
        for (const s of rec.spans) add(`${'  '.repeat(s.depth + 1)}${s.name}`, s.ms);
      }
      for (const [k, v] of sums) perStep.set(k, [...(perStep.get(k) ?? []), v]);
    }
    console.log(
      `docker run --rm ${network.join(' ')} busybox true: ${RUNS} runs, median wall ${median(wall).toFixed(1)} ms`,
    );
    console.log('| step | median ms | runs seen |');
    console.log('|---|---:|---:|');
    for (const [k, v] of perStep)
      console.log(
        `| ${k.replace(/^ +/, (m) => '·'.repeat(m.length / 2))} | ${median(v).toFixed(2)} | ${v.length} |`,
      );
  } finally {
    await d.cleanup();
  }
}

await main();
