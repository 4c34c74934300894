// Registry benchmark: push and pull of a ~200 MB, 5-layer image to a loopback registry
// (Debian's docker-registry), Berth (`berth push`/`berth pull` through berthd) against
// `skopeo copy` of the same image in the same run. Medians over 3 runs; each run starts from an
// empty registry repository (push) or an empty image store (pull).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { startDockerd } from './bench-dockerd.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { dockerLegacyArchive, makeTar } from '../test/helpers/tarballs.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return performance.now() - t;
}

export async function benchRegistry(runs = 3): Promise<void> {
  const d = await startTestDaemon();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-reg-'));
  let docker: Awaited<ReturnType<typeof startDockerd>>;
  try {
    const env = { DOCKER_HOST: d.host, BERTH_HOST: d.host, DOCKER_CONFIG: path.join(d.dir, 'docker-config') };
    const berth = path.join(ROOT, 'bin/berth');
    // 5 layers of ~40 MB (incompressible, so gzip costs what it would on real binaries).
    const layers: Buffer[] = [];
    for (let i = 0; i < 5; i++)
      layers.push(await makeTar([{ name: `layer${i}/blob`, body: randomBytes(40 << 20) }]));
    const { tar } = await dockerLegacyArchive([{ layers, repoTags: ['bench/big:1'] }]);
    const archive = path.join(tmp, 'big.tar');
    await fsp.writeFile(archive, tar);
    execFileSync(berth, ['load', '-i', archive], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const mb = tar.length / 1e6;

    const pushB: number[] = [];
    const pushS: number[] = [];
    const pullB: number[] = [];
    const pullS: number[] = [];
    const pushD: number[] = [];
    const pullD: number[] = [];
    docker = await startDockerd(path.join(tmp, 'dockerd'));
    const denv = docker ? { DOCKER_HOST: docker.host, DOCKER_CONFIG: path.join(tmp, 'dcfg') } : {};
    if (docker)
      execFileSync('docker', ['load', '-i', archive], { env: { ...process.env, ...denv }, stdio: 'ignore' });
    for (let i = 0; i < runs; i++) {
      // Fresh registries each run, one per tool: nothing is already there to skip or mount.
      const [rb, rs] = await Promise.all([startRegistry(), startRegistry()]);
      try {
        const target = `${rb.host}/bench/app:1`;
        execFileSync(berth, ['tag', 'bench/big:1', target], { env: { ...process.env, ...env } });
        pushB.push(timed(berth, ['push', '-q', target], env));
        pushS.push(
          timed('skopeo', [
            'copy',
            '-q',
            '--dest-tls-verify=false',
            `docker-archive:${archive}`,
            `docker://${rs.host}/bench/app:1`,
          ]),
        );
        // Pull into an empty store.
        execFileSync(berth, ['rmi', '-f', 'bench/big:1', target], {
          env: { ...process.env, ...env },
          stdio: 'ignore',
        });
        pullB.push(timed(berth, ['pull', '-q', target], env));
        const dest = path.join(tmp, `oci${i}`);
        pullS.push(
          timed('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${target}`, `oci:${dest}:x`]),
        );
        await fsp.rm(dest, { recursive: true, force: true });
        if (docker) {
          // The same image through a Docker daemon, to a registry of its own.
          const rd = await startRegistry();
          try {
            const dt = `${rd.host}/bench/app:1`;
            execFileSync('docker', ['tag', 'bench/big:1', dt], { env: { ...process.env, ...denv } });
            pushD.push(timed('docker', ['push', '-q', dt], denv));
            execFileSync('docker', ['rmi', '-f', 'bench/big:1', dt], {
              env: { ...process.env, ...denv },
              stdio: 'ignore',
            });
            pullD.push(timed('docker', ['pull', '-q', dt], denv));
            execFileSync('docker', ['tag', dt, 'bench/big:1'], { env: { ...process.env, ...denv } });
            execFileSync('docker', ['rmi', dt], { env: { ...process.env, ...denv }, stdio: 'ignore' });
          } finally {
            await rd.stop();
          }
        }
        execFileSync(berth, ['tag', target, 'bench/big:1'], { env: { ...process.env, ...env } });
        execFileSync(berth, ['rmi', target], { env: { ...process.env, ...env }, stdio: 'ignore' });
      } finally {
        await Promise.all([rb.stop(), rs.stop()]);
      }
    }
    const line = (name: string, a: number[], b: number[]) =>
      console.log(
        `${name.padEnd(30)} berth: ${median(a).toFixed(0).padStart(6)} ms (${(mb / (median(a) / 1000)).toFixed(0)} MB/s)   skopeo: ${median(b).toFixed(0).padStart(6)} ms   ratio ${(median(a) / median(b)).toFixed(2)}×`,
      );
    console.log(
      `\n== registry push/pull of a ${mb.toFixed(0)} MB 5-layer image on loopback (${runs} runs, median)`,
    );
    line('push (berth vs skopeo copy)', pushB, pushS);
    line('pull (berth vs skopeo copy)', pullB, pullS);
    console.log('(berth pull also extracts every layer into the store; skopeo only writes the blobs)');
    if (docker) {
      const vs = (name: string, a: number[], b: number[]) =>
        console.log(
          `${name.padEnd(30)} berth ${median(a).toFixed(0)} ms, Docker 20.10 daemon ${median(b).toFixed(0)} ms: ratio ${(median(a) / median(b)).toFixed(2)}×`,
        );
      vs('push (berth vs dockerd)', pushB, pushD);
      vs('pull (berth vs dockerd)', pullB, pullD);
    } else console.log('(no dockerd installed: the Docker column is skipped)');
  } finally {
    await docker?.stop();
    await d.cleanup();
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!process.argv.includes('--no-build'))
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  await benchRegistry(Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 3));
}
