// npm run bench:trace: 20 `docker run --rm busybox true` against a berthd started with tracing,
// then the median time of each traced step over the runs (a step seen several times in one run,
// such as spawn.ip, is summed for that run first). Steps nest: a line includes those under it.
//   --network-none          runs with `--network none`
//   --compare <berthd.mjs>  also starts that build of berthd (an earlier commit's dist/berthd.mjs)
//                           and alternates the runs between the two, so both columns come from
//                           the same minutes of a shared machine: the before/after of a change.
import { spawnSync } from 'node:child_process';
import { startTestDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const RUNS = Number(process.env.BENCH_TRACE_RUNS ?? 20);

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

/** One traced berthd and what its runs measured. */
interface Subject {
  readonly name: string;
  readonly d: TestDaemon;
  since: number;
  readonly wall: number[];
  readonly perStep: Map<string, number[]>;
}

async function readTrace(d: TestDaemon, since: number): Promise<Rec[]> {
  const r = await d.request('GET', `/_berth/trace?since=${since}`);
  return (JSON.parse(r.body.toString()) as { records: Rec[] }).records;
}

async function prepare(name: string, d: TestDaemon, network: string[]): Promise<Subject> {
  const imp = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
  if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
  // One warm-up run: first-use costs (bridge creation, module loading) are not the steady state.
  spawnSync('docker', ['run', '--rm', ...network, 'busybox', 'true'], { env: envOf(d) });
  const since = Math.max(0, ...(await readTrace(d, 0)).map((r) => r.id));
  return { name, d, since, wall: [], perStep: new Map() };
}

const envOf = (d: TestDaemon) => ({ ...process.env, DOCKER_HOST: `unix://${d.socket}` });

async function once(s: Subject, network: string[]): Promise<void> {
  const t0 = performance.now();
  const r = spawnSync('docker', ['run', '--rm', ...network, 'busybox', 'true'], {
    env: envOf(s.d),
    timeout: 60_000,
  });
  s.wall.push(performance.now() - t0);
  if (r.status !== 0) throw new Error(`docker run failed: ${r.stderr}`);
  // The --rm removal finishes after the CLI returns at most by a moment: let it land.
  await new Promise((res) => setTimeout(res, 200));
  const recs = await readTrace(s.d, s.since);
  s.since = Math.max(s.since, ...recs.map((x) => x.id));
  const sums = new Map<string, number>();
  const add = (k: string, ms: number) => sums.set(k, (sums.get(k) ?? 0) + ms);
  for (const rec of recs) {
    if (rec.label.startsWith('GET /_berth/')) continue;
    if (rec.label.includes(' ')) add(`http ${rec.label}`, rec.ms);
    for (const sp of rec.spans) add(`${'  '.repeat(sp.depth + 1)}${sp.name}`, sp.ms);
  }
  for (const [k, v] of sums) s.perStep.set(k, [...(s.perStep.get(k) ?? []), v]);
}

function print(subjects: Subject[], network: string[]): void {
  const heads = subjects.map((s) => `${s.name} median ms`);
  console.log(
    `docker run --rm ${network.join(' ')} busybox true: ${RUNS} runs each, median wall ${subjects
      .map((s) => `${s.name} ${median(s.wall).toFixed(1)} ms`)
      .join(', ')}`,
  );
  console.log(`| step | ${heads.join(' | ')} | runs seen |`);
  console.log(`|---|${heads.map(() => '---:|').join('')}---:|`);
  // Steps in the order the last subject (the build under test) first saw them.
  const order = new Set([...subjects].reverse().flatMap((s) => [...s.perStep.keys()]));
  for (const k of order) {
    const cols = subjects.map((s) => {
      const v = s.perStep.get(k);
      return v ? median(v).toFixed(2) : '—';
    });
    const seen = subjects.map((s) => s.perStep.get(k)?.length ?? 0).join('/');
    console.log(`| ${k.replace(/^ +/, (m) => '·'.repeat(m.length / 2))} | ${cols.join(' | ')} | ${seen} |`);
  }
}

async function main(): Promise<void> {
  const network = process.argv.includes('--network-none') ? ['--network', 'none'] : [];
  const at = process.argv.indexOf('--compare');
  const before = at > 0 ? process.argv[at + 1] : undefined;
  if (at > 0 && !before) throw new Error('--compare needs the path of the other build (its dist/berthd.mjs)');
  const daemons: TestDaemon[] = [];
  try {
    const subjects: Subject[] = [];
    if (before) {
      const d = await startTestDaemon({ env: { BERTH_TRACE: '1' }, command: [process.execPath, before] });
      daemons.push(d);
      subjects.push(await prepare('before', d, network));
    }
    const d = await startTestDaemon({ env: { BERTH_TRACE: '1' } });
    daemons.push(d);
    subjects.push(await prepare(before ? 'after' : 'this build', d, network));
    for (let i = 0; i < RUNS; i++) {
      // Alternate which build goes first, so neither always runs right after the other.
      const turn = i % 2 === 0 ? subjects : [...subjects].reverse();
      for (const s of turn) await once(s, network);
    }
    print(subjects, network);
  } finally {
    for (const d of daemons) await d.cleanup();
  }
}

await main();
