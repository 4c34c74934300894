// The npm package, as an operator gets it: `npm pack` (its prepack builds dist/) in a copy of
// the checkout, `npm install -g --prefix <tmp>` of the tarball, then the installed `berth`,
// `berthd` and `berth-registry` commands, with the installed package's node_modules removed
// (the bundles carry their dependencies), and a busybox container run through the installed
// berthd.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let work: string;
let prefix: string;
let tarball: string;
let d: TestDaemon | undefined;
const commit = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], {
  cwd: ROOT,
  encoding: 'utf8',
}).trim();

before(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-pkg-'));
  // A copy, so the pack's build (which empties dist/) never touches the checkout's dist/ that
  // other test files run; node_modules is the shared install (esbuild for the build).
  const src = path.join(work, 'src-tree');
  await fsp.mkdir(src);
  for (const entry of ['package.json', 'README.md', 'bin', 'scripts', 'src', 'docs', 'contrib']) {
    await fsp.cp(path.join(ROOT, entry), path.join(src, entry), { recursive: true });
  }
  await fsp.symlink(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'));
  const packed = await runIn(src, 'npm', ['pack', '--pack-destination', work], {
    // No .git in the copy: the build takes the commit from here.
    BERTH_GIT_COMMIT: commit,
  });
  if (packed.code !== 0 || !packed.stdout.trim().endsWith('.tgz')) {
    assert.fail(`npm pack failed (${packed.code}):\n${packed.stdout}\n${packed.stderr}`);
  }
  tarball = path.join(work, packed.stdout.trim().split('\n').at(-1)!);
  prefix = path.join(work, 'prefix');
  // --offline: the test makes no network traffic; the registry's tarballs of the (bundled,
  // unused at run time) dependencies come from npm's cache, which `npm ci` filled.
  const installed = await run(
    'npm',
    ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball],
    { timeoutMs: 180_000 },
  );
  assert.equal(installed.code, 0, installed.stderr);
  // Nothing of node_modules is needed at run time: prove it.
  await fsp.rm(path.join(prefix, 'lib/node_modules/berth/node_modules'), { recursive: true, force: true });
});

after(async () => {
  await d?.cleanup();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

/** Runs a command in `cwd` (bounded: 3 minutes), as the helpers' run() does elsewhere. */
function runIn(
  cwd: string,
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, env: { ...process.env, ...env }, timeout: 180_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) || 1 : 0, stdout, stderr }),
    );
  });
}

const bin = (name: string) => path.join(prefix, 'bin', name);

describe('npm package', () => {
  test('the tarball holds the bundles, prebuilt helpers and units, and no source maps or tests', async () => {
    const list = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
    for (const f of [
      'package/dist/berthd.mjs',
      'package/dist/berth.cjs',
      'package/dist/berth-registry.mjs',
      'package/dist/berth-stdin-relay',
      'package/dist/berth-console-relay',
      'package/bin/berth',
      'package/contrib/systemd/berthd.service',
      'package/contrib/systemd/berthd.socket',
    ]) {
      assert.ok(list.includes(f), `${f} missing from the package`);
    }
    assert.ok(!list.some((f) => f.endsWith('.map') || f.startsWith('package/test/')), list.join('\n'));
    const pkg = JSON.parse(await fsp.readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
      private?: boolean;
    };
    assert.notEqual(pkg.private, true);
  });

  test('installed berth, berthd and berth-registry print their versions', async () => {
    const version = JSON.parse(await fsp.readFile(path.join(ROOT, 'package.json'), 'utf8')).version as string;
    const daemon = await run(bin('berthd'), ['--version']);
    assert.equal(daemon.code, 0, daemon.stderr);
    assert.equal(daemon.stdout, `Berth version ${version}, build ${commit}\n`);
    const cli = await run(bin('berth'), ['--version']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^Berth version ${version.replaceAll('.', '\\.')}`));
    const registry = await run(bin('berth-registry'), ['--help']);
    assert.equal(registry.code, 0, registry.stderr);
    assert.match(registry.stdout, /^Usage: berth-registry/);
  });

  test('the installed berthd runs a busybox container for the installed berth', async () => {
    d = await startTestDaemon({ command: [bin('berthd')] });
    const env = { BERTH_HOST: d.host, DOCKER_HOST: d.host };
    const imported = await run(bin('berth'), ['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox'], {
      env,
    });
    assert.equal(imported.code, 0, imported.stderr);
    const r = await run(bin('berth'), ['run', '--rm', 'busybox', 'echo', 'hello from the package'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from the package\n');
    // The prebuilt stdin relay shipped in the package feeds an attached container's stdin.
    const piped = await run(bin('berth'), ['run', '--rm', '-i', 'busybox', 'cat'], { env, input: 'piped\n' });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'piped\n');
    const info = await d.docker(['info', '--format', '{{.ServerVersion}}']);
    assert.equal(
      info.stdout.trim(),
      JSON.parse(await fsp.readFile(path.join(ROOT, 'package.json'), 'utf8')).version,
    );
  });
});
