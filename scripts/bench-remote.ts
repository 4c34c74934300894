// Remote access benchmark (issue 21), side by side in one run against one berthd that listens on
// its unix socket and on a mutual-TLS TCP port (127.0.0.1, certificates made with openssl):
//  1. `docker run --rm busybox true` over each (median of N, runs alternating);
//  2. `docker logs` of a container's ~100 MB of output into /dev/null over each (median of 3).
// Prints the medians and the ratio TLS/unix (aim: at most 1.2x for both).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { daemonTlsArgs, makePki, tlsHostOf, tlsVerifyFlags } from '../test/helpers/certs.ts';
import { median, runAsScript, startBenchDaemon, timed } from './bench-lib.ts';

const RUNS = Number(process.env.BENCH_REMOTE_RUNS ?? 15);
const LOG_BYTES = Number(process.env.BENCH_REMOTE_LOG_BYTES ?? 100_000_000);

function row(what: string, unix: number[], tls: number[], extra = ''): void {
  const u = median(unix);
  const t = median(tls);
  console.log(
    `${what.padEnd(30)} unix: ${u.toFixed(1).padStart(8)} ms   TLS: ${t.toFixed(1).padStart(8)} ms   TLS/unix ${(t / u).toFixed(2)}x${extra}`,
  );
}

export async function benchRemote(): Promise<void> {
  const pki = makePki();
  const { d, env } = await startBenchDaemon({ extraArgs: daemonTlsArgs(pki), logLevelFlag: false });
  try {
    const tcp = await tlsHostOf(d.logs);
    const base = { DOCKER_CONFIG: env.DOCKER_CONFIG, DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' };
    const unixEnv = { ...base, DOCKER_HOST: d.host };
    const tlsEnv = { ...base, DOCKER_HOST: '' };
    const flags = tlsVerifyFlags(pki, tcp);
    const docker = (env: NodeJS.ProcessEnv, args: string[]) =>
      execFileSync('docker', args, { env: { ...process.env, ...env } })
        .toString()
        .trim();
    // One warm-up each: the first run pays for code paths berthd has not compiled yet.
    docker(unixEnv, ['run', '--rm', 'busybox', 'true']);
    docker(tlsEnv, [...flags, 'run', '--rm', 'busybox', 'true']);

    console.log(`\n== remote access: one berthd, unix socket vs mutual TLS on ${tcp}`);
    const unixRun: number[] = [];
    const tlsRun: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      unixRun.push(timed('docker', ['run', '--rm', 'busybox', 'true'], unixEnv));
      tlsRun.push(timed('docker', [...flags, 'run', '--rm', 'busybox', 'true'], tlsEnv));
    }
    row(`run --rm busybox true (x${RUNS})`, unixRun, tlsRun);

    // Lines of 100 bytes, as bench-containers writes them.
    const line = 'abcdefghijklmnopqrstuvwxyz'.repeat(4).slice(0, 99);
    const id = docker(unixEnv, ['run', '-d', 'busybox', 'sh', '-c', `yes '${line}' | head -c ${LOG_BYTES}`]);
    docker(unixEnv, ['wait', id]);
    const unixLogs: number[] = [];
    const tlsLogs: number[] = [];
    const quoted = flags.map((f) => `'${f}'`).join(' ');
    for (let i = 0; i < 3; i++) {
      unixLogs.push(timed('sh', ['-c', `docker logs ${id} > /dev/null`], unixEnv));
      tlsLogs.push(timed('sh', ['-c', `docker ${quoted} logs ${id} > /dev/null`], tlsEnv));
    }
    docker(unixEnv, ['rm', '-f', id]);
    const mbs = (ms: number) => `${(LOG_BYTES / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
    row(
      `logs of ${LOG_BYTES / 1e6} MB (x3)`,
      unixLogs,
      tlsLogs,
      `   (${mbs(median(unixLogs))} vs ${mbs(median(tlsLogs))})`,
    );
    console.log('(aim: TLS/unix <= 1.20x for both)');
  } finally {
    await d.cleanup();
    rmSync(pki.dir, { recursive: true, force: true });
  }
}

await runAsScript(import.meta, benchRemote);
