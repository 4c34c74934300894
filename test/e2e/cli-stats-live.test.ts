// `berth stats` without --no-stream, on a terminal (a pty from script(1)): frames redrawn in
// place as docker 28 draws them (cursor home, each line erased to its end, the rest of the screen
// cleared), at least two of them, and a container started after the command began shows up in a
// later frame. The frame bytes are compared with the docker CLI's against the same berthd.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from '../helpers/daemon.ts';
import { ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();

/** `cmd` on a pty, its output collected; stopped (its whole process group) by stop(). */
function onPty(cmd: string) {
  const child: ChildProcess = spawn('script', ['-qfc', cmd, '/dev/null'], {
    detached: true,
    env: { ...process.env, COLUMNS: '120', LINES: '40', TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    },
  };
}

/** The frames of a live stats output: the text after each cursor-home, without CRs. */
function frames(out: string): string[] {
  return out.replace(/\r/g, '').split('\x1b[H').slice(1);
}

test('live stats redraws in place on a tty and picks up a container started later', async () => {
  ok(await h.d.docker(['run', '-d', '--name', 'live-a', 'busybox', 'sleep', '600']));
  const berth = onPty(`${ROOT}/bin/berth -H ${h.d.host} stats`);
  const docker = onPty(`docker -H ${h.d.host} stats`);
  try {
    await until('a first frame with live-a', async () =>
      frames(berth.output()).some((f) => f.includes('live-a')),
    );
    ok(await h.d.docker(['run', '-d', '--name', 'live-b', 'busybox', 'sleep', '600']));
    await until(
      'a frame with live-b',
      async () => frames(berth.output()).some((f) => f.includes('live-b')),
      20_000,
    );
    const fs = frames(berth.output());
    assert.ok(fs.length >= 2, `${fs.length} frames`);
    const first = fs.findIndex((f) => f.includes('live-a'));
    const withB = fs.findIndex((f) => f.includes('live-b'));
    assert.ok(first >= 0 && withB > first, 'live-b appears in a later frame than the first');
    // Every frame: the header, each line erased to its end, then the rest of the screen cleared.
    for (const f of fs.slice(0, -1)) {
      assert.match(f, /^CONTAINER ID {3}NAME {2,}CPU % {2,}MEM USAGE \/ LIMIT/);
      assert.ok(f.endsWith(' \x1b[K\n \x1b[K\n\x1b[J'), JSON.stringify(f.slice(-40)));
      for (const line of f.split('\n').slice(0, -1))
        assert.ok(line.endsWith(' \x1b[K'), JSON.stringify(line));
    }
    // docker's frames erase the same way (its erased copy of the table follows a plain one).
    await until('docker frames', async () => frames(docker.output()).length >= 4, 20_000);
    const erased = frames(docker.output()).filter((f) => f.endsWith('\x1b[J'));
    assert.ok(erased.length >= 1);
    assert.ok(erased[0]!.endsWith(' \x1b[K\n \x1b[K\n\x1b[J'), JSON.stringify(erased[0]!.slice(-40)));
  } finally {
    await berth.stop();
    await docker.stop();
  }
});

test('without a tty the frames are written the same way, one after another', async () => {
  const r = onPty(`${ROOT}/bin/berth -H ${h.d.host} stats live-a | cat`);
  try {
    await until('two frames through a pipe', async () => frames(r.output()).length >= 3, 20_000);
    const fs = frames(r.output()).slice(0, 2);
    for (const f of fs) assert.match(f, /live-a .*\x1b\[K\n \x1b\[K\n\x1b\[J$/s);
  } finally {
    await r.stop();
  }
});
