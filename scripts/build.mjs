// Bundles the entry points with esbuild. The CLI is one CommonJS file run through a V8 code
// cache (scripts/berth-launch.cjs) so `berth` starts fast; berthd is one ESM file.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// The commit `berthd --version` and /version report ("build <sha>", as dockerd prints it). A
// packed tarball has no .git: BERTH_GIT_COMMIT may name it; otherwise it stays "unknown".
function gitCommit() {
  if (process.env.BERTH_GIT_COMMIT) return process.env.BERTH_GIT_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  define: { __BERTH_GIT_COMMIT__: JSON.stringify(gitCommit()) },
};

await Promise.all([
  build({ ...common, format: 'cjs', entryPoints: ['src/cmd/berth.ts'], outfile: 'dist/berth.cjs' }),
  build({
    ...common,
    format: 'esm',
    entryPoints: ['src/cmd/berth-registry.ts'],
    outfile: 'dist/berth-registry.mjs',
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
    },
  }),
  // berth-registry's bcrypt worker thread (src/registry/server/bcrypt-pool.ts loads it from
  // beside the registry bundle), so password checks never run on the server's event loop.
  build({
    ...common,
    format: 'esm',
    entryPoints: ['src/registry/server/bcrypt-worker.ts'],
    outfile: 'dist/berth-registry-bcrypt.mjs',
    banner: {
      js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
    },
  }),
  build({
    ...common,
    format: 'esm',
    entryPoints: ['src/cmd/berthd.ts'],
    outfile: 'dist/berthd.mjs',
    // esm bundles need a require() for the few CommonJS dependencies.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
    },
  }),
]);
copyFileSync('scripts/berth-launch.cjs', 'dist/berth-launch.cjs');
// berthd.mjs is package.json's `berthd` bin (it has a shebang): runnable from a checkout too.
chmodSync('dist/berthd.mjs', 0o755);
// The stdin relay for conmon's SOCK_SEQPACKET attach socket (Node cannot open those).
// The console relay for `exec -t` (receives runc's pty master over a unix socket).
// The unixgram relay for log drivers (Node's dgram has no unix datagram sockets).
// The CRI's pause program, static and stripped: a pod sandbox's rootfs is that one file.
// The CRI's port-forward dialer (setns into a pod's netns, which Node cannot do).
for (const [out, src, what, flags = []] of [
  ['berth-stdin-relay', 'runtime/stdin-relay.c', 'containers cannot receive stdin from attach'],
  ['berth-console-relay', 'runtime/console-relay.c', 'exec -t is unavailable'],
  [
    'berth-unixgram-relay',
    'logs/drivers/unixgram-relay.c',
    'syslog unixgram:// and journald are unavailable',
  ],
  ['berth-pause', 'cri/pause.c', 'CRI pod sandboxes cannot start', ['-static', '-s']],
  ['berth-netns-dial', 'cri/streaming/netns-dial.c', 'CRI PortForward into pods is unavailable'],
]) {
  try {
    execFileSync('cc', ['-O2', '-Wall', ...flags, '-o', `dist/${out}`, `src/${src}`], { stdio: 'inherit' });
  } catch {
    console.warn(`warning: no C compiler (apt-get install gcc): ${what}`);
  }
}
// Warm the code cache once so the first real run is already fast.
rmSync('dist/berth.cjs.v8cache', { force: true });
execFileSync(process.execPath, ['dist/berth-launch.cjs', 'images', '--help'], { stdio: 'ignore' });
