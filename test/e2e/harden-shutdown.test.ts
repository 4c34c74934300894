// SIGTERM to berthd with exec and attach sessions, `logs -f` and `events` open: it closes them
// and exits within a few seconds, releasing its bridge and iptables chains when no container
// uses them. While a container is attached they stay (it keeps running across the restart) and
// the next start takes them over; after a kill -9 the next start's clean stop releases them.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { ROOT, run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();

/** Opens an `Upgrade: tcp` hijack and resolves once berthd answered 101; the socket stays open. */
function hijack(path: string, body: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(h.d.socket);
    let head = '';
    const timer = setTimeout(() => reject(new Error(`no 101 for ${path}: ${head}`)), 10_000);
    s.on('error', reject);
    s.on('data', (c: Buffer) => {
      head += c.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        clearTimeout(timer);
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`no 101 for ${path}: ${head}`));
        else resolve(s);
      }
    });
    s.write(
      `POST ${path} HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  });
}

async function ourChains(): Promise<string[]> {
  const save = (await run('iptables-save', [])).stdout;
  return [...save.matchAll(/^:(BERTH-[A-Z]+-\S+)/gm)]
    .map((m) => m[1]!)
    .filter((c) => c.endsWith(`-${h.d.bridge}`));
}

async function bridgeUp(): Promise<boolean> {
  return fsp.access(`/sys/class/net/${h.d.bridge}`).then(
    () => true,
    () => false,
  );
}

function cli(args: string[]): ChildProcess {
  // stdin stays open (a pipe nobody closes): an interactive session that never ends by itself.
  return spawn('docker', args, {
    env: { ...process.env, DOCKER_HOST: h.d.host, DOCKER_CONFIG: `${h.d.dir}/docker-config` },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
}

test('SIGTERM with open exec, attach, logs -f and events sessions exits fast and releases the bridge', async () => {
  const id = ok(
    await h.d.docker([
      'run',
      '-d',
      '-i',
      '--network',
      'none',
      '--name',
      'sess',
      'busybox',
      'sh',
      '-c',
      'while :; do echo t; sleep 1; done',
    ]),
  ).trim();
  assert.ok(await bridgeUp());
  assert.notDeepEqual(await ourChains(), []);
  const sockets = [
    await hijack(`/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1`, ''),
    await hijack(
      `/exec/${JSON.parse((await h.d.request('POST', `/containers/${id}/exec`, JSON.stringify({ Cmd: ['sh'], AttachStdin: true, AttachStdout: true, Tty: true }), { 'Content-Type': 'application/json' })).body.toString()).Id}/start`,
      JSON.stringify({ Detach: false, Tty: true }),
    ),
  ];
  const clients = [
    cli(['exec', '-i', id, 'sh']),
    cli(['attach', id]),
    cli(['logs', '-f', id]),
    cli(['events']),
  ];
  try {
    // Let the CLI sessions reach the daemon.
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    const code = await h.d.stop();
    const ms = Date.now() - t0;
    assert.ok(ms < 5000, `berthd took ${ms} ms to stop`);
    assert.equal(code, 0, h.d.logs().slice(-2000));
    assert.equal(await bridgeUp(), false, 'the bridge is released');
    assert.deepEqual(await ourChains(), [], 'the iptables chains are released');
  } finally {
    for (const s of sockets) s.destroy();
    for (const c of clients) c.kill('SIGKILL');
  }
  // The container kept running; the next start adopts it.
  h.d = await h.d.restart();
  assert.equal(ok(await h.d.docker(['exec', id, 'echo', 'alive'])).trim(), 'alive');
  ok(await h.d.docker(['rm', '-f', id]));
});

test('the bridge stays while a container uses it, and the next start takes it over', async () => {
  const id = ok(await h.d.docker(['run', '-d', 'busybox', 'sleep', '300'])).trim();
  const ip = ok(await h.d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id])).trim();
  assert.equal(await h.d.stop(), 0);
  assert.ok(await bridgeUp(), 'kept for the running container');
  assert.notDeepEqual(await ourChains(), []);
  h.d = await h.d.restart();
  assert.match(
    ok(await h.d.docker(['exec', id, 'ip', '-4', 'addr'])),
    new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`),
  );
  assert.equal((await fsp.readdir(`/sys/class/net/${h.d.bridge}/brif`)).length, 1);
  ok(await h.d.docker(['rm', '-f', id]));

  // A kill -9 releases nothing; the next start accepts what is there and its clean stop releases it.
  await h.d.kill9();
  assert.ok(await bridgeUp());
  h.d = await h.d.restart();
  assert.equal(await h.d.stop(), 0);
  assert.equal(await bridgeUp(), false);
  assert.deepEqual(await ourChains(), []);
  h.d = await h.d.restart();
});

test('a shutdown stuck past the forced exit still releases the bridge and its chains', async () => {
  h.d = await h.d.restart({ env: { BERTH_CRASH_AT: 'shutdown:before-network' } });
  assert.ok(await bridgeUp());
  const t0 = Date.now();
  const code = await h.d.stop();
  const ms = Date.now() - t0;
  assert.match(h.d.logs(), /stall point/);
  assert.equal(code, 1, 'the forced exit');
  assert.ok(ms < 22_000, `took ${ms} ms`);
  assert.equal(await bridgeUp(), false, 'the bridge is released');
  assert.deepEqual(await ourChains(), [], 'the iptables chains are released');
  h.d = await h.d.restart();
});

test('a SIGTERM during start-up is acted on once the start finished, with the clean-up', async () => {
  await h.d.stop();
  const dir = h.d.dir;
  const child = spawn(
    process.execPath,
    [
      `${ROOT}/dist/berthd.mjs`,
      ...['--data-root', `${dir}/data`, '--exec-root', `${dir}/exec`, '-H', h.d.host],
      ...['--config-file', `${dir}/daemon.json`, '--log-level', 'debug'],
      ...[
        '--cgroup-parent',
        `/berth-test-${dir
          .split('/')
          .pop()!
          .replace(/^berth-test-/, '')}`,
      ],
      ...['--bridge', h.d.bridge, '--bip', `10.199.${h.d.netByte}.1/24`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let logs = '';
  let signalled = false;
  child.stderr!.on('data', (c: Buffer) => {
    logs += c.toString();
    // Mid start-up: the stores are open, recovery and the listeners are still to come.
    if (!signalled && logs.includes('"cgroups"')) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(timer);
  assert.ok(signalled, logs);
  assert.equal(code, 0, `berthd died of the signal instead of stopping:\n${logs.slice(-1500)}`);
  assert.equal(await bridgeUp(), false, 'the bridge is released');
  assert.deepEqual(await ourChains(), []);
  h.d = await h.d.restart();
});
