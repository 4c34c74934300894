// Stress for issue 14's intermittent start hang: concurrent multi-stage builds (stage RUNs in
// parallel, one failing) and `docker run --rm` containers against one berthd, bounded in rounds
// and time. Prints every failure that mentions conmon and how long each start took.
// Usage: npx tsx scripts/stress-start.ts [rounds=10] [seconds=180]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';

const rounds = Number(process.argv[2] ?? 10);
const deadline = Date.now() + Number(process.argv[3] ?? 180) * 1000;
const d = await startTestDaemon();
const ctx = await mkdtemp(path.join(os.tmpdir(), 'berth-stress-'));
let failures = 0;
try {
  const imp = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
  if (imp.code !== 0) throw new Error(imp.stderr);
  await writeFile(
    path.join(ctx, 'Dockerfile'),
    'FROM busybox AS a\nRUN ln -s /tmp/canary /dl && ln -s /tmp/canary/shadow /ds\nFROM busybox\n' +
      'RUN --mount=type=bind,from=a,source=ds,target=/m,rw sh -c "echo x > /m"\n',
  );
  const env = { DOCKER_BUILDKIT: '0' };
  for (let i = 0; i < rounds && Date.now() < deadline; i++) {
    const t0 = Date.now();
    const builds = Number(process.env.STRESS_BUILDS ?? 2);
    const runs = Number(process.env.STRESS_RUNS ?? 4);
    const jobs = [
      ...Array.from({ length: builds }, () =>
        d.docker(['build', '--no-cache', ctx], { env, timeoutMs: 60_000 }),
      ),
      ...Array.from({ length: runs }, () =>
        d.docker(['run', '--rm', 'busybox', 'true'], { timeoutMs: 60_000 }),
      ),
    ];
    const rs = await Promise.all(jobs);
    for (const r of rs) {
      const out = r.stdout + r.stderr;
      if (/conmon|OCI runtime/i.test(out)) {
        failures++;
        console.log(`round ${i}: ${out.slice(-600)}`);
      }
    }
    console.log(`round ${i}: ${Date.now() - t0} ms`);
  }
} finally {
  await rm(ctx, { recursive: true, force: true });
  await d.cleanup();
}
console.log(`failures: ${failures}`);
process.exitCode = failures > 0 ? 1 : 0;
