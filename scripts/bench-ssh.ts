// berth over ssh:// against the unix socket (issue 21), side by side against one berthd: a
// private Debian sshd on a loopback port in a temp dir (test/helpers/sshd.ts, as
// test/e2e/remote-ssh.test.ts uses it; nothing of the machine's ssh set-up is used), then
// `berth version`, `berth ps -a` and `berth run --rm busybox true` over each, medians of N runs
// alternating, and the ssh/unix ratio. A row for the bare `ssh host true` shows the login floor.
import path from 'node:path';
import { type PrivateSshd, startSshd, writeScript } from '../test/helpers/sshd.ts';
import { BERTH, median, runAsScript, startBenchDaemon, timed } from './bench-lib.ts';

const RUNS = Number(process.env.BENCH_SSH_RUNS ?? 9);
const TIMEOUT_MS = 60_000;

export async function benchSsh(): Promise<void> {
  const { d } = await startBenchDaemon({ logLevelFlag: false });
  let sshd: PrivateSshd | undefined;
  try {
    // The far side's sessions get DOCKER_HOST = the daemon socket and berth on PATH.
    sshd = await startSshd({ remoteEnv: { DOCKER_HOST: `unix://${d.socket}` }, prefix: 'berth-bench-ssh-' });
    writeScript(path.join(sshd.remoteBin, 'berth'), `exec ${BERTH} "$@"`);
    const base = {
      DOCKER_CONFIG: path.join(sshd.dir, 'client-config'),
      DOCKER_CONTEXT: '',
      BERTH_HOST: '',
      BERTH_SSH_REMOTE_CMD: '',
      PATH: `${sshd.clientBin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    };
    const unixEnv = { ...base, DOCKER_HOST: d.host };
    const sshEnv = { ...base, DOCKER_HOST: sshd.url };
    console.log(
      `\n== berth over ssh:// (sshd on 127.0.0.1:${sshd.port}) vs the unix socket, median of ${RUNS}`,
    );
    const login: number[] = [];
    for (let i = 0; i < RUNS; i++)
      login.push(timed('ssh', ['-p', String(sshd.port), 'root@127.0.0.1', 'true'], base, TIMEOUT_MS));
    console.log(`${'ssh login floor (ssh host true)'.padEnd(34)} ${median(login).toFixed(0).padStart(6)} ms`);
    for (const args of [['version'], ['ps', '-a'], ['run', '--rm', 'busybox', 'true']]) {
      timed(BERTH, args, unixEnv, TIMEOUT_MS);
      timed(BERTH, args, sshEnv, TIMEOUT_MS);
      const u: number[] = [];
      const s: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        u.push(timed(BERTH, args, unixEnv, TIMEOUT_MS));
        s.push(timed(BERTH, args, sshEnv, TIMEOUT_MS));
      }
      const mu = median(u);
      const ms = median(s);
      console.log(
        `${`berth ${args.join(' ')}`.padEnd(34)} unix: ${mu.toFixed(0).padStart(6)} ms   ssh: ${ms.toFixed(0).padStart(6)} ms   ssh/unix ${(ms / mu).toFixed(2)}x`,
      );
    }
  } finally {
    await sshd?.stop();
    await d.cleanup();
  }
}

await runAsScript(import.meta, benchSsh);
