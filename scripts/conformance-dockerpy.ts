// `npm run conformance:dockerpy`: docker-py 7.1.0's own integration suite against a private
// berthd built from a checkout (this one by default), on a temporary data root, socket and
// bridge (test/helpers/daemon.ts picks a bridge and subnet no other daemon on the host uses).
// Not part of CI: it needs a docker-py source and takes many minutes.
//
//   npm run -s build && npm run conformance:dockerpy [-- <extra pytest args>]
//   BERTH_CHECKOUT=/path/to/other/checkout npm run conformance:dockerpy   (e.g. a baseline)
//
// Source of the tests: DOCKERPY_SRC (default /work/dockerpy-src when it exists), else
// DOCKERPY_GIT (see ../shared/conformance/dockerpy/README.md). Every other run.sh knob
// (DOCKERPY_OUT, DOCKERPY_TEST_TIMEOUT, ...) passes through the environment.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const here = path.resolve(import.meta.dirname, '..');
const checkout = path.resolve(process.env.BERTH_CHECKOUT ?? here);
const harness = process.env.DOCKERPY_HARNESS ?? path.resolve(here, '../shared/conformance/dockerpy/run.sh');

function fail(msg: string): never {
  console.error(`conformance-dockerpy: ${msg}`);
  console.log('0 passed, 0 failed');
  process.exit(2);
}

if (!existsSync(harness)) fail(`harness ${harness} not found (set DOCKERPY_HARNESS)`);
if (!existsSync(path.join(checkout, 'dist/berthd.mjs')))
  fail(`${checkout}/dist/berthd.mjs is missing: run \`npm run -s build\` in ${checkout} first`);
const env: NodeJS.ProcessEnv = { ...process.env };
if (!env.DOCKERPY_SRC && !env.DOCKERPY_GIT) {
  if (existsSync('/work/dockerpy-src/tests/integration')) env.DOCKERPY_SRC = '/work/dockerpy-src';
  else fail('no docker-py source: set DOCKERPY_SRC (a 7.1.0 checkout) or DOCKERPY_GIT');
}

// The helper launches the berthd of the checkout it lives in, so a baseline checkout's own
// helper starts the baseline's daemon.
const helper = (await import(
  pathToFileURL(path.join(checkout, 'test/helpers/daemon.ts')).href
)) as typeof import('../test/helpers/daemon.ts');
const daemon = await helper.startTestDaemon();
console.error(`conformance-dockerpy: berthd from ${checkout} on ${daemon.host} (pid ${daemon.pid})`);

let child: ReturnType<typeof spawn> | undefined;
let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (child && child.exitCode === null) {
      // run.sh cleans up the daemon's objects on TERM; give it a moment before the daemon goes
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 5000));
    }
    await daemon.cleanup().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
  }
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void stop(2));

let lastLine = '';
const code = await new Promise<number>((resolve) => {
  child = spawn('bash', [harness, ...process.argv.slice(2)], {
    env: { ...env, DOCKER_HOST: daemon.host },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.on('data', (c: Buffer) => {
    process.stdout.write(c);
    const lines = c.toString('utf8').trim().split('\n');
    lastLine = lines[lines.length - 1] ?? lastLine;
  });
  child.on('error', () => resolve(2));
  child.on('close', (c) => resolve(c ?? 2));
});
console.error(`conformance-dockerpy: totals: ${lastLine || '(none)'}`);
await stop(code);
