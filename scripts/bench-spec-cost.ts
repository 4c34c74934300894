// npm run bench:spec-cost: what the parts of Berth's OCI spec cost runc itself (issue 20). Takes
// the config.json berthd wrote for a `--network none` container, points it at a busybox rootfs
// of our own, and times `runc run` of it with one part taken out at a time, interleaved, beside
// runc's own default spec (the floor in bench-floors.ts). The differences are runtime work that
// no change in berthd's code can remove, only a change of what the spec asks for.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const ROUNDS = Number(process.env.BENCH_SPEC_ROUNDS ?? 15);

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// biome-ignore lint/suspicious/noExplicitAny: a runtime spec edited field by field
type Spec = any;

function variants(berth: Spec, runcDefault: Spec): Record<string, Spec> {
  const edit = (f: (s: Spec) => void) => {
    const s = structuredClone(berth);
    f(s);
    return s;
  };
  return {
    'berth spec': berth,
    'without seccomp': edit((s) => delete s.linux.seccomp),
    'seccomp for x86_64 only': edit((s) => {
      s.linux.seccomp.architectures = s.linux.seccomp.architectures?.slice(0, 1);
    }),
    'seccomp without x32': edit((s) => {
      s.linux.seccomp.architectures = s.linux.seccomp.architectures?.filter(
        (a: string) => a !== 'SCMP_ARCH_X32',
      );
    }),
    'seccomp without x86 (32-bit)': edit((s) => {
      s.linux.seccomp.architectures = s.linux.seccomp.architectures?.filter(
        (a: string) => a !== 'SCMP_ARCH_X86',
      );
    }),
    'without masked/readonly paths': edit((s) => {
      delete s.linux.maskedPaths;
      delete s.linux.readonlyPaths;
    }),
    'without cgroup path and limits': edit((s) => {
      delete s.linux.cgroupsPath;
      delete s.linux.resources;
    }),
    'runc default spec (floor)': runcDefault,
  };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-spec-cost-'));
  const runcRoot = path.join(tmp, 'runc-root');
  const d = await startTestDaemon();
  try {
    const imp = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
    if (imp.code !== 0) throw new Error(`import: ${imp.stderr}`);
    const r = await d.docker(['create', '--network', 'none', 'busybox', 'true']);
    if (r.code !== 0) throw new Error(`create: ${r.stderr}`);
    const id = r.stdout.trim();
    // The spec is written at start: start once, then take the file it wrote.
    const s = await d.docker(['start', '-a', id]);
    if (s.code !== 0) throw new Error(`start: ${s.stderr}`);
    const berth: Spec = JSON.parse(
      await fsp.readFile(path.join(d.dataRoot, 'containers', id, 'config.json'), 'utf8'),
    );
    const bundle = path.join(tmp, 'bundle');
    await fsp.mkdir(path.join(bundle, 'rootfs'), { recursive: true });
    execFileSync('tar', ['-xf', busyboxTar(), '-C', path.join(bundle, 'rootfs')]);
    // Our own rootfs, namespaces runc makes itself, and none of berthd's bind mounts (the files
    // they name belong to its container), so this spec runs from this bundle alone.
    berth.root = { path: 'rootfs' };
    berth.linux.namespaces = berth.linux.namespaces.map((n: { type: string }) => ({ type: n.type }));
    berth.mounts = berth.mounts.filter((m: { source?: string }) => !m.source?.startsWith(d.dir));
    berth.linux.cgroupsPath = `${berth.linux.cgroupsPath}-spec-cost`;
    execFileSync('runc', ['spec', '--bundle', tmp]);
    const def: Spec = JSON.parse(await fsp.readFile(path.join(tmp, 'config.json'), 'utf8'));
    def.process.terminal = false;
    def.process.args = ['true'];
    delete def.process.rlimits;
    def.root = { path: 'rootfs' };
    const all = variants(berth, def);
    const times = new Map<string, number[]>();
    for (let i = -1; i < ROUNDS; i++) {
      for (const [name, spec] of Object.entries(all)) {
        await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
        const t = performance.now();
        const x = spawnSync('runc', ['--root', runcRoot, 'run', '--bundle', bundle, `spec-cost-${i + 1}`], {
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 30_000,
        });
        const ms = performance.now() - t;
        if (x.status !== 0) throw new Error(`${name}: runc run failed: ${x.stderr}`);
        if (i >= 0) times.set(name, [...(times.get(name) ?? []), ms]);
      }
    }
    console.log(`\n== runc run of Berth's spec, one part taken out at a time (${ROUNDS} rounds, medians)`);
    const base = median(times.get('berth spec')!);
    for (const [name, v] of times)
      console.log(
        `${name.padEnd(32)} ${median(v).toFixed(1).padStart(7)} ms   ${(median(v) - base).toFixed(1).padStart(7)} ms`,
      );
  } finally {
    const left = spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout ?? '';
    for (const c of left.split('\n').filter(Boolean))
      spawnSync('runc', ['--root', runcRoot, 'delete', '-f', c], { stdio: 'ignore' });
    await d.cleanup();
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

await main();
