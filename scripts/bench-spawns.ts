// npm run bench:spawns: how many processes berthd starts and how many fsyncs it makes for one
// `docker run --rm busybox true` (bridge, --network none) and one `docker exec c true`, counted
// with `strace -f -e trace=execve,fsync,fdatasync` attached to berthd around each command, after
// a warm-up run (issue 20: on 2 shared cores the run path's cost is its spawns and syncs).
// runc init and the container's own process are counted too (the bare `runc run` floor has them).
// BENCH_BERTHD=<berthd.mjs> counts another build. Needs strace.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';
const d = await startTestDaemon(
  process.env.BENCH_BERTHD ? { command: ['node', process.env.BENCH_BERTHD] } : {},
);
const out: string[] = [];
try {
  const env = { ...process.env, DOCKER_HOST: d.host };
  await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox:latest']);
  spawnSync('docker', ['run', '--rm', 'busybox', 'true'], { env });
  spawnSync('docker', ['run', '-d', '--name', 'sc-exec', 'busybox', 'sleep', '1000'], { env });
  for (const [name, args] of [
    ['bridge', ['run', '--rm', 'busybox', 'true']],
    ['none', ['run', '--rm', '--network', 'none', 'busybox', 'true']],
    ['exec', ['exec', 'sc-exec', 'true']],
  ] as const) {
    const file = path.join(d.dir, `strace-${name}.txt`);
    const st = spawn(
      'strace',
      [
        '-f',
        '-qq',
        '-e',
        'trace=execve,fsync,fdatasync',
        '-e',
        'signal=none',
        '-o',
        file,
        '-p',
        String(d.pid),
      ],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 1000));
    spawnSync('docker', args as unknown as string[], { env });
    await new Promise((r) => setTimeout(r, 1000));
    st.kill('SIGINT');
    await new Promise((r) => st.on('exit', r));
    const lines = readFileSync(file, 'utf8').split('\n');
    const execs = lines.filter((l) => l.includes('execve(') && !l.includes('ENOENT'));
    const fsyncs = lines.filter((l) => /\b(fsync|fdatasync)\(/.test(l) && !l.includes('resumed'));
    out.push(
      `${name}: ${execs.length} execve (${execs.map((l) => /execve\("([^"]+)"/.exec(l)?.[1]?.split('/').pop()).join(', ')}), ${fsyncs.length} fsync`,
    );
  }
} finally {
  await d.cleanup();
}
console.log(`== processes and fsyncs per command (strace -f of berthd)\n${out.join('\n')}`);
