// The `none` driver keeps nothing on disk (conmon runs with `-l none`), yet attached output still
// works: attach reads conmon's attach socket, connected before the process runs, so `docker run`
// loses no line even when the process writes at once; `docker logs` answers Docker's error.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

const containerDir = (id: string) => path.join(daemon.d.dataRoot, 'containers', id);
const idOf = async (name: string) => ok(await daemon.d.docker(['inspect', '-f', '{{.Id}}', name])).trim();

test('docker run attached prints stdout and stderr apart, every line, and keeps no log file', async () => {
  const r = await daemon.d.docker([
    'run',
    '--name',
    'none-run',
    '--log-driver',
    'none',
    'busybox',
    'sh',
    '-c',
    'seq 1 20000; echo to-stderr >&2',
  ]);
  assert.equal(r.code, 0, r.stderr);
  // Written from the first instant: all of it, in order (the attach connects before start).
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 20000);
  assert.deepEqual(lines.slice(0, 3), ['1', '2', '3']);
  assert.equal(lines.at(-1), '20000');
  assert.equal(r.stderr, 'to-stderr\n');
  const id = await idOf('none-run');
  const files = readdirSync(containerDir(id));
  assert.ok(
    !files.some((f) => f.endsWith('.log') && f !== 'conmon.log' && f !== 'runtime.log'),
    files.join(' '),
  );
  assert.ok(!existsSync(path.join(containerDir(id), 'ctr.log')));
  assert.deepEqual(
    JSON.parse(ok(await daemon.d.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', id]))),
    { Type: 'none', Config: {} },
  );
  const logs = await daemon.d.docker(['logs', 'none-run']);
  assert.notEqual(logs.code, 0);
  assert.match(logs.stderr, /Error response from daemon: configured logging driver does not support reading/);
});

test('-a stdout / -a stderr: only the stream asked for comes back', async () => {
  const script = ['sh', '-c', 'echo out; echo err >&2'];
  const out = await daemon.d.docker([
    'run',
    '--rm',
    '--log-driver',
    'none',
    '-a',
    'stdout',
    'busybox',
    ...script,
  ]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'out\n');
  assert.equal(out.stderr, '');
  const err = await daemon.d.docker([
    'run',
    '--rm',
    '--log-driver',
    'none',
    '-a',
    'stderr',
    'busybox',
    ...script,
  ]);
  assert.equal(err.code, 0, err.stderr);
  assert.equal(err.stdout, '');
  assert.equal(err.stderr, 'err\n');
});

test('stdin and a terminal: run -i feeds cat, run -t prints through the terminal', async () => {
  const i = await daemon.d.docker(['run', '--rm', '-i', '--log-driver', 'none', 'busybox', 'cat'], {
    input: 'typed in\n',
  });
  assert.equal(i.code, 0, i.stderr);
  assert.equal(i.stdout, 'typed in\n');
  const t = await daemon.d.docker([
    'run',
    '--rm',
    '-t',
    '--log-driver',
    'none',
    'busybox',
    'echo',
    'on a tty',
  ]);
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stdout, 'on a tty\r\n');
  // The exit code still comes back.
  const e = await daemon.d.docker(['run', '--rm', '--log-driver', 'none', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(e.code, 3);
});

test('docker attach to a running container gets its output from then on; nothing is stored', async () => {
  const id = ok(
    await daemon.d.docker([
      'run',
      '-d',
      '--log-driver',
      'none',
      'busybox',
      'sh',
      '-c',
      'i=0; while [ $i -lt 600 ]; do echo tick$i; i=$((i+1)); sleep 0.1; done',
    ]),
  ).trim();
  const child = spawn('docker', ['attach', '--no-stdin', id], {
    env: { ...process.env, DOCKER_HOST: daemon.d.host },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  try {
    await until('attached output', async () => /tick\d+\n.*tick\d+\n/s.test(out));
    const ticks = out.match(/tick(\d+)/g)!.map((t) => Number(t.slice(4)));
    // Consecutive: the attach loses nothing once connected.
    for (let k = 1; k < ticks.length; k++) assert.equal(ticks[k], ticks[k - 1]! + 1, out);
  } finally {
    child.kill('SIGKILL');
  }
  assert.ok(!existsSync(path.join(containerDir(id), 'ctr.log')));
  ok(await daemon.d.docker(['rm', '-f', id]));
});
