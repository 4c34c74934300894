// dockerd's service settings in berthd: default-ulimits fill in the limits a container does
// not set (seen in /proc/1/limits through the docker CLI 28 and berth alike), sd_notify tells
// a datagram socket the test binds READY=1 and STOPPING=1, live-restore false stops the
// containers at shutdown (restart policies act at the next start), and shutdown-timeout bounds
// a shutdown that hangs.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

// An abstract-namespace socket, as systemd may hand out: nothing to clean up on disk.
const NOTIFY = `@berth-notify-${process.pid}`;
// Prints every datagram it receives as one JSON line (a listener the test owns, by pid).
const LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + sys.argv[1][1:])
print(json.dumps('listening'), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;
let listener: ChildProcessWithoutNullStreams;
const received: string[] = [];

before(async () => {
  listener = spawn('python3', ['-c', LISTENER, NOTIFY]);
  let buf = '';
  listener.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      received.push(JSON.parse(buf.slice(0, i)) as string);
      buf = buf.slice(i + 1);
    }
  });
  await until('the notify listener', async () => received.includes('listening'), 10_000);
});
after(() => {
  listener?.kill('SIGKILL');
});

const h = useBusyboxDaemon({
  config: {
    'default-ulimits': {
      nofile: { Name: 'nofile', Soft: 1000, Hard: 2000 },
      nproc: { Name: 'nproc', Soft: 300, Hard: 400 },
    },
    'live-restore': false,
    'shutdown-timeout': 4,
  },
  env: { NOTIFY_SOCKET: NOTIFY },
});

const LIMITS = [
  'sh',
  '-c',
  'grep -E "^Max (open files|processes)" /proc/1/limits | tr -s " " | sed "s/ $//"',
];

test('default-ulimits reach containers that do not set their own (docker CLI and berth alike)', async () => {
  const expected = 'Max processes 300 400 processes\nMax open files 1000 2000 files\n';
  for (const cli of ['docker', 'berth'] as const) {
    assert.equal(ok(await h.d[cli](['run', '--rm', 'busybox', ...LIMITS])), expected, cli);
    // The container's own limit wins for its name; the other default stays.
    assert.equal(
      ok(await h.d[cli](['run', '--rm', '--ulimit', 'nofile=500:600', 'busybox', ...LIMITS])),
      'Max processes 300 400 processes\nMax open files 500 600 files\n',
      cli,
    );
  }
  // As with dockerd, inspect shows only the container's own ulimits.
  const id = ok(await h.d.docker(['create', '--ulimit', 'core=0:0', 'busybox'])).trim();
  const fmt = ['inspect', '--format', '{{json .HostConfig.Ulimits}}', id];
  const viaDocker = ok(await h.d.docker(fmt));
  assert.equal(viaDocker, '[{"Name":"core","Hard":0,"Soft":0}]\n');
  assert.equal(ok(await h.d.berth(fmt)), viaDocker);
  ok(await h.d.docker(['rm', id]));
});

test('sd_notify: READY=1 with the main pid once the API answers; containers never see NOTIFY_SOCKET', async () => {
  await until('READY=1', async () => received.includes(`READY=1\nMAINPID=${h.d.pid}`), 10_000);
  const env = ok(await h.d.docker(['run', '--rm', 'busybox', 'env']));
  assert.doesNotMatch(env, /NOTIFY_SOCKET/);
});

test('live-restore false: the shutdown stops containers as docker stop does; policies restart at the next start', async () => {
  const trap = ok(
    await h.d.docker([
      'run',
      '-d',
      '--name',
      'trap',
      'busybox',
      'sh',
      '-c',
      'trap "echo got TERM; exit 3" TERM; while true; do sleep 0.1; done',
    ]),
  ).trim();
  // Ignores SIGTERM: killed after its own stop timeout.
  const stubborn = ok(
    await h.d.docker([
      'run',
      '-d',
      '--name',
      'stubborn',
      '--stop-timeout',
      '1',
      'busybox',
      'sh',
      '-c',
      'trap "" TERM; while true; do sleep 0.1; done',
    ]),
  ).trim();
  const always = ok(
    await h.d.docker(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sleep', '1000']),
  ).trim();
  // The trap must be set before the stop.
  await until('the trap is set', async () => (await h.d.docker(['top', trap])).stdout.includes('sleep'));
  const stoppingBefore = received.filter((m) => m === 'STOPPING=1').length;
  assert.equal(await h.d.stop(), 0, h.d.logs());
  assert.equal(received.filter((m) => m === 'STOPPING=1').length, stoppingBefore + 1, 'STOPPING=1 was sent');
  // Nothing is left running in this daemon's runc root.
  const list = await run('runc', ['--root', path.join(h.d.dir, 'exec', 'runc'), 'list', '-q']);
  assert.equal(list.stdout.trim(), '', 'no container outlives berthd');

  h.d = await h.d.restart({ env: { NOTIFY_SOCKET: NOTIFY } });
  const state = async (id: string) =>
    ok(await h.d.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id])).trim();
  assert.equal(await state(trap), 'exited 3');
  assert.equal(ok(await h.d.docker(['logs', trap])), 'got TERM\n');
  assert.equal(await state(stubborn), 'exited 137');
  // Not a user's stop: `always` is started again with the daemon.
  await until('always runs again', async () => (await state(always)).startsWith('running'));
  ok(await h.d.docker(['rm', '-f', trap, stubborn, always]));
});

test('shutdown-timeout bounds a shutdown that hangs: berthd exits with 1 once it passed', async () => {
  h.d = await h.d.restart({ env: { NOTIFY_SOCKET: NOTIFY, BERTH_CRASH_AT: 'shutdown:before-network' } });
  assert.equal(await h.d.stop(), 1, h.d.logs());
  const lines = h.d
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; timeout?: number });
  // No containers are left, so the file's 4 s is not raised by any stop timeout.
  assert.equal(lines.find((l) => l.msg === 'shutting down')?.timeout, 4);
  assert.equal(lines.find((l) => l.msg === 'shutdown took too long; forcing exit')?.timeout, 4);
  h.d = await h.d.restart({ env: { NOTIFY_SOCKET: NOTIFY } });
});
