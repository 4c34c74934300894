// A private Docker daemon for side-by-side benchmarks, when Debian's docker.io is installed
// (never a dependency of Berth): unix socket, data and exec roots in a temp dir, no bridge and
// no iptables changes, so it touches nothing outside what the benchmark made.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export /** A private dockerd on unix sockets in `dir`: no bridge, no iptables changes. */
async function startDockerd(dir: string): Promise<{ host: string; stop: () => Promise<void> } | undefined> {
  const bin = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
  if (!bin) return undefined;
  const sock = path.join(dir, 'docker.sock');
  const child: ChildProcess = spawn(
    bin,
    [
      `--host=unix://${sock}`,
      `--data-root=${path.join(dir, 'data')}`,
      `--exec-root=${path.join(dir, 'exec')}`,
      `--pidfile=${path.join(dir, 'docker.pid')}`,
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
      '--ip-forward=false',
      '--userland-proxy=false',
      '--storage-driver=overlay2',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const host = `unix://${sock}`;
  for (let i = 0; i < 100; i++) {
    if (spawnSync('docker', ['-H', host, 'version'], { stdio: 'ignore' }).status === 0) {
      return {
        host,
        stop: async () => {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        },
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  console.log('(dockerd did not come up; Docker column skipped)');
  return undefined;
}
