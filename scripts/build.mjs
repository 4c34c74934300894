// Bundles the entry points with esbuild. The CLI is one CommonJS file run through a V8 code
// cache (scripts/berth-launch.cjs) so `berth` starts fast; berthd is ESM, split in chunks.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

// berthd's chunks of an earlier build (their names carry a content hash): none left behind.
for (const f of existsSync('dist') ? readdirSync('dist') : [])
  if (/^berthd-.*\.mjs(\.map)?$/.test(f)) rmSync(`dist/${f}`, { force: true });

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
  // berthd is split: what only some daemons use (the CRI's gRPC stack, ~1 MB of bundle) is a
  // chunk loaded by a dynamic import when first needed, not parsed and evaluated at every
  // start (idle RSS, issue 20). Chunks sit beside berthd.mjs (helpers are found beside the
  // bundle through import.meta.url, whichever chunk the code landed in).
  build({
    ...common,
    format: 'esm',
    entryPoints: { berthd: 'src/cmd/berthd.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'berthd-[name]-[hash]',
    // esm bundles need a require() for the few CommonJS dependencies.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
    },
  }),
]);
// V8 keeps a module's source in memory for as long as it lives, one byte per character if every
// character is Latin-1 and two otherwise. esbuild escapes strings to ASCII but keeps some
// comments as written, and one `→` in a comment doubled berthd's source in the heap (2.2 MB
// instead of 1.1). Such characters become \uXXXX escapes, which mean the same in comments,
// strings, regular expressions and templates (esbuild has already escaped the latter three).
for (const f of readdirSync('dist').filter((n) => /^berthd.*\.mjs$/.test(n))) {
  const text = readFileSync(`dist/${f}`, 'utf8');
  const wide = /[^\u0000-\u00ff]/g;
  if (wide.test(text))
    writeFileSync(
      `dist/${f}`,
      text.replace(wide, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    );
}
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
