// Errors and exit codes of berth against the docker CLI 28, both talking to the same berthd:
// after `docker`→`berth` the texts and codes must be equal (usage errors 125 or 1, a missing
// container exit 1, 125/126/127 from run, the container's own code otherwise), and commands
// over many names print each done name in order and report every failure at the end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

/** Runs the same arguments through both CLIs and returns both results, docker's normalised. */
async function both(args: string[]) {
  const d = await daemon.d.docker(args);
  const b = await daemon.d.berth(args);
  const norm = (s: string) => s.replaceAll('docker', 'berth');
  return { d: { ...d, stdout: norm(d.stdout), stderr: norm(d.stderr) }, b };
}

async function same(args: string[], what = args.join(' ')) {
  const { d, b } = await both(args);
  assert.equal(b.code, d.code, `${what}: exit code (docker stderr: ${d.stderr})`);
  assert.equal(b.stderr, d.stderr, `${what}: stderr`);
  assert.equal(b.stdout, d.stdout, `${what}: stdout`);
  return b;
}

describe('docker error texts and exit codes', () => {
  test('usage errors: unknown flags, missing arguments, unknown commands', async () => {
    assert.equal((await same(['run', '--foo', 'busybox'])).code, 125);
    assert.equal((await same(['rm', '-x', 'a'])).code, 125);
    assert.equal((await same(['container', 'rm', '--bogus', 'a'])).code, 125);
    assert.equal((await same(['rm'])).code, 1);
    assert.equal((await same(['logs'])).code, 1);
    assert.equal((await same(['run'])).code, 1);
    assert.equal((await same(['nosuch'])).code, 1);
    assert.equal((await same(['container', 'nosuch'])).code, 1);
    assert.equal((await same(['stop', '-t', 'abc', 'x'])).code, 125);
    assert.equal((await same(['run', '--name'])).code, 125);
  });

  test('a missing container: docker text, exit 1', async () => {
    const r = await same(['rm', 'missing']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error response from daemon: No such container: missing\n');
  });

  test('rm -f of missing names, start of a missing one, a bare group, run of a missing image', async () => {
    assert.equal((await same(['rm', '-f', 'gone1', 'gone2'])).code, 0);
    assert.match((await same(['start', 'gone3'])).stderr, /failed to start containers: gone3/);
    assert.match((await same(['container'])).stderr, /^Usage: {2}berth container COMMAND/);
    const r = await same(['run', '--rm', '--pull=never', 'nosuchimage:2', 'true']);
    assert.equal(r.code, 125);
  });

  test('many names: each done name printed in order, every error at the end', async () => {
    for (const n of ['pa', 'pb', 'pc']) ok(await daemon.d.berth(['create', '--name', n, 'busybox', 'true']));
    const r = await daemon.d.berth(['rm', 'pa', 'nope1', 'pb', 'nope2', 'pc']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'pa\npb\npc\n');
    assert.equal(
      r.stderr,
      'Error response from daemon: No such container: nope1\nError response from daemon: No such container: nope2\n',
    );
    // docker prints the same for the same situation.
    for (const n of ['pa', 'pb', 'pc']) ok(await daemon.d.berth(['create', '--name', n, 'busybox', 'true']));
    const d = await daemon.d.docker(['rm', 'pa', 'nope1', 'pb', 'nope2', 'pc']);
    assert.equal(r.stdout, d.stdout);
    assert.equal(r.stderr, d.stderr);
    assert.equal(r.code, d.code);
  });

  test('stop, kill, start, restart, pause, unpause of many: names in order', async () => {
    const names = ['ma', 'mb', 'mc'];
    for (const n of names) ok(await daemon.d.berth(['run', '-d', '--name', n, 'busybox', 'sleep', '300']));
    assert.equal(ok(await daemon.d.berth(['pause', ...names])), 'ma\nmb\nmc\n');
    assert.equal(ok(await daemon.d.berth(['unpause', ...names])), 'ma\nmb\nmc\n');
    assert.equal(ok(await daemon.d.berth(['restart', '-t', '0', ...names])), 'ma\nmb\nmc\n');
    assert.equal(ok(await daemon.d.berth(['kill', ...names])), 'ma\nmb\nmc\n');
    assert.equal(ok(await daemon.d.berth(['start', ...names])), 'ma\nmb\nmc\n');
    const s = await daemon.d.berth(['stop', '--timeout', '0', 'ma', 'gone', 'mb', 'mc']);
    assert.equal(s.code, 1);
    assert.equal(s.stdout, 'ma\nmb\nmc\n');
    assert.equal(s.stderr, 'Error response from daemon: No such container: gone\n');
    assert.equal(ok(await daemon.d.berth(['rm', ...names])), 'ma\nmb\nmc\n');
  });

  test('run: the container code, 125 for daemon errors, 126 not invokable, 127 not found', async () => {
    assert.equal((await daemon.d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    const d127 = await daemon.d.docker(['run', '--rm', 'busybox', 'nosuchcommand']);
    const b127 = await daemon.d.berth(['run', '--rm', 'busybox', 'nosuchcommand']);
    assert.equal(d127.code, 127, d127.stderr);
    assert.equal(b127.code, 127, b127.stderr);
    const d126 = await daemon.d.docker(['run', '--rm', 'busybox', '/etc']);
    const b126 = await daemon.d.berth(['run', '--rm', 'busybox', '/etc']);
    assert.equal(d126.code, 126, d126.stderr);
    assert.equal(b126.code, 126, b126.stderr);
    const d125 = await daemon.d.docker(['run', '--rm', '--pull=never', 'nosuchimage:1', 'true']);
    const b125 = await daemon.d.berth(['run', '--rm', '--pull=never', 'nosuchimage:1', 'true']);
    assert.equal(d125.code, 125, d125.stderr);
    assert.equal(b125.code, 125, b125.stderr);
    assert.match(b125.stderr, /^berth: Error response from daemon: No such image: nosuchimage:1/);
  });
});
