// Containers through the real docker CLI and the API: run, output, exit codes, logs, ps,
// stop, rm, and what is left behind.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

function mounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(daemon.d.dataRoot));
}

describe('docker run', () => {
  test('prints output and returns the exit code', async () => {
    const r = await daemon.d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('a fast echo never loses output', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await daemon.d.docker(['run', '--rm', 'busybox', 'echo', `hi ${i}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `hi ${i}\n`);
    }
  });

  test('127 for a missing command, 126 for a non-executable one', async () => {
    const nf = await daemon.d.docker(['run', '--rm', 'busybox', '/nonexistent']);
    assert.equal(nf.code, 127, nf.stderr);
    const ne = await daemon.d.docker(['run', '--rm', 'busybox', '/etc/passwd']);
    assert.equal(ne.code, 126, ne.stderr);
  });

  test('the process sees the image config, env, user and workdir', async () => {
    const r = await daemon.d.docker([
      'run',
      '--rm',
      '-e',
      'A=1',
      '-u',
      'nobody',
      '-w',
      '/tmp/new/dir',
      '--hostname',
      'boxy',
      'busybox',
      'sh',
      '-c',
      'echo $A $(id -u) $(pwd) $(hostname)',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1 65534 /tmp/new/dir boxy');
  });

  test('berth run -i pipes stdin too', async () => {
    const r = await daemon.d.berth(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'tr a-z A-Z'], {
      input: 'shout\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'SHOUT\n');
    const code = await daemon.d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo bye; exit 3']);
    assert.equal(code.code, 3, code.stderr);
    assert.equal(code.stdout, 'bye\n');
  });

  test('-t gives the process a terminal and a raw stream', async () => {
    const r = await daemon.d.docker([
      'run',
      '-t',
      '--rm',
      'busybox',
      'sh',
      '-c',
      'test -t 1 && echo tty; exit 5',
    ]);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stdout, 'tty\r\n');
  });

  test('-i pipes stdin to the process and closes it at EOF', async () => {
    const r = await daemon.d.docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo after'], {
      input: 'line one\nline two\n',
      timeoutMs: 15_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line one\nline two\nafter\n');
    const big = 'x'.repeat(200_000);
    const wc = await daemon.d.docker(['run', '-i', '--rm', 'busybox', 'wc', '-c'], {
      input: big,
      timeoutMs: 15_000,
    });
    assert.equal(wc.stdout.trim(), '200000');
  });

  test('--init runs the command under an init as PID 1', async () => {
    const r = await daemon.d.docker([
      'run',
      '--rm',
      '--init',
      'busybox',
      'sh',
      '-c',
      'cat /proc/1/comm; echo $$',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [comm, pid] = r.stdout.trim().split('\n');
    assert.match(comm!, /tini|docker-init/);
    assert.notEqual(pid, '1');
  });

  test('--rm leaves no container and no mount behind', async () => {
    await daemon.d.docker(['run', '--rm', 'busybox', 'true']);
    const ps = await daemon.d.docker(['ps', '-aq']);
    assert.equal(ps.stdout.trim(), '');
    assert.deepEqual(mounts(), []);
  });
});

describe('lifecycle', () => {
  test('run -d, ps, logs, inspect, stop, rm', async () => {
    const run = await daemon.d.docker([
      'run',
      '-d',
      '--name',
      'ticker',
      'busybox',
      'sh',
      '-c',
      'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    const ps = await daemon.d.docker(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /^ticker Up /m);
    const state = await daemon.d.docker([
      'inspect',
      '-f',
      '{{.State.Status}} {{.State.Running}} {{gt .State.Pid 0}}',
      'ticker',
    ]);
    assert.equal(state.stdout.trim(), 'running true true');
    // logs of a running container (bounded wait for the first line)
    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('started'); i++) {
      logs = (await daemon.d.docker(['logs', 'ticker'])).stdout;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(logs, 'started\n');
    const stop = await daemon.d.docker(['stop', '-t', '5', 'ticker']);
    assert.equal(stop.code, 0, stop.stderr);
    const after = await daemon.d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]);
    assert.equal(after.stdout.trim(), 'exited 0');
    assert.equal((await daemon.d.docker(['logs', 'ticker'])).stdout, 'started\nbye\n');
    const rm = await daemon.d.docker(['rm', 'ticker']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(mounts(), []);
  });

  test('stop -t 1 kills a process that ignores SIGTERM (137)', async () => {
    const run = await daemon.d.docker([
      'run',
      '-d',
      'busybox',
      'sh',
      '-c',
      'trap "" TERM; while true; do sleep 0.1; done',
    ]);
    const id = run.stdout.trim();
    const t0 = Date.now();
    assert.equal((await daemon.d.docker(['stop', '-t', '1', id])).code, 0);
    assert.ok(Date.now() - t0 < 8000);
    assert.equal((await daemon.d.docker(['inspect', '-f', '{{.State.ExitCode}}', id])).stdout.trim(), '137');
    await daemon.d.docker(['rm', id]);
  });

  test('errors: unknown image, name conflict, rm of a running container, kill of a stopped one, bad signal', async () => {
    const noimg = await daemon.d.request('POST', '/containers/create', JSON.stringify({ Image: 'nothere' }), {
      'Content-Type': 'application/json',
    });
    assert.equal(noimg.status, 404);
    assert.match(JSON.parse(noimg.body.toString()).message, /No such image: nothere/);
    const bad = await daemon.d.request('POST', '/containers/create', '{not json', {
      'Content-Type': 'application/json',
    });
    assert.equal(bad.status, 400);
    const badName = await daemon.d.docker(['create', '--name', 'bad name!', 'busybox']);
    assert.notEqual(badName.code, 0);
    assert.match(badName.stderr, /Invalid container name/);

    const run = await daemon.d.docker(['run', '-d', '--name', 'holder', 'busybox', 'sleep', '30']);
    const id = run.stdout.trim();
    const conflict = await daemon.d.docker(['create', '--name', 'holder', 'busybox']);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, new RegExp(`name "/holder" is already in use by container "${id}"`));
    const rm = await daemon.d.docker(['rm', 'holder']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /container is running: stop the container before removing or force remove/);
    const sig = await daemon.d.request('POST', `/containers/${id}/kill?signal=SIGNOPE`);
    assert.equal(sig.status, 400);
    const again = await daemon.d.request('POST', `/containers/${id}/start`);
    assert.equal(again.status, 304);
    assert.equal((await daemon.d.docker(['rm', '-f', 'holder'])).code, 0);
    const created = (await daemon.d.docker(['create', 'busybox', 'true'])).stdout.trim();
    const kill = await daemon.d.request('POST', `/containers/${created}/kill`);
    assert.equal(kill.status, 409);
    await daemon.d.docker(['rm', created]);
    assert.deepEqual(mounts(), []);
  });

  test('rmi of an image a container uses is a conflict', async () => {
    const c = (await daemon.d.docker(['create', 'busybox', 'true'])).stdout.trim();
    const r = await daemon.d.docker(['rmi', 'busybox']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /container [a-f0-9]{12} is using its referenced image/);
    await daemon.d.docker(['rm', c]);
  });
});

describe('pause, restart, rename, prune', () => {
  test('pause freezes a counter; unpause resumes it', async () => {
    const id = (
      await daemon.d.docker([
        'run',
        '-d',
        'busybox',
        'sh',
        '-c',
        'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done',
      ])
    ).stdout.trim();
    // No exec yet: read the counter through the container's upper layer instead.
    const upper = (
      await daemon.d.docker(['inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', id])
    ).stdout.trim();
    const counter = () => {
      try {
        return Number(readFileSync(`${upper}/tmp/n`, 'utf8').trim() || '0');
      } catch {
        return 0;
      }
    };
    for (let i = 0; i < 100 && counter() < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await daemon.d.docker(['pause', id])).code, 0);
    assert.equal(
      (await daemon.d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', id])).stdout.trim(),
      'paused true',
    );
    const frozen = counter();
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(counter(), frozen);
    const again = await daemon.d.request('POST', `/containers/${id}/pause`);
    assert.equal(again.status, 409);
    assert.equal((await daemon.d.docker(['unpause', id])).code, 0);
    // Bounded wait: the counter must move again within 5 s of unpausing.
    for (let i = 0; i < 100 && counter() <= frozen; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(counter() > frozen, 'counter moves again after unpause');
    assert.equal((await daemon.d.docker(['rm', '-f', id])).code, 0);
  });

  test('top lists the container processes only', async () => {
    const id = (
      await daemon.d.docker(['run', '-d', 'busybox', 'sh', '-c', 'sleep 31 & sleep 32'])
    ).stdout.trim();
    let out = '';
    // Both children: under load the forked `sleep 31` may still show as `sh` when `sleep 32` runs.
    for (let i = 0; i < 60 && !(out.includes('sleep 31') && out.includes('sleep 32')); i++) {
      out = (await daemon.d.docker(['top', id])).stdout;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(out, /^UID\s+PID\s+PPID/);
    assert.match(out, /sleep 31/);
    assert.match(out, /sleep 32/);
    assert.doesNotMatch(out, /berthd|conmon/);
    const aux = await daemon.d.docker(['top', id, 'aux']);
    assert.match(aux.stdout, /USER\s+PID/);
    await daemon.d.docker(['rm', '-f', id]);
  });

  test('restart runs the command again; rename keeps the container', async () => {
    const id = (
      await daemon.d.docker(['run', '-d', '--name', 'again', 'busybox', 'sh', '-c', 'echo run; sleep 30'])
    ).stdout.trim();
    assert.equal((await daemon.d.docker(['restart', '-t', '0', 'again'])).code, 0);
    let logs = '';
    for (let i = 0; i < 40 && logs !== 'run\nrun\n'; i++) {
      logs = (await daemon.d.docker(['logs', 'again'])).stdout;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(logs, 'run\nrun\n');
    assert.equal((await daemon.d.docker(['rename', 'again', 'renamed'])).code, 0);
    assert.equal(
      (await daemon.d.docker(['inspect', '-f', '{{.Name}} {{.State.Running}}', id])).stdout.trim(),
      '/renamed true',
    );
    assert.equal((await daemon.d.docker(['rm', '-f', 'renamed'])).code, 0);
  });

  test('container prune removes stopped containers only', async () => {
    const stopped = (await daemon.d.docker(['create', 'busybox', 'true'])).stdout.trim();
    const running = (await daemon.d.docker(['run', '-d', 'busybox', 'sleep', '30'])).stdout.trim();
    const r = await daemon.d.docker(['container', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(stopped));
    assert.equal((await daemon.d.docker(['ps', '-aq', '--no-trunc'])).stdout.trim(), running);
    await daemon.d.docker(['rm', '-f', running]);
  });
});

describe('exec', () => {
  test('output, exit codes, env, user, workdir, stdin, inspect; 409 when not running', async () => {
    const id = (await daemon.d.docker(['run', '-d', '-e', 'BASE=1', 'busybox', 'sleep', '30'])).stdout.trim();
    const out = await daemon.d.docker([
      'exec',
      '-e',
      'X=2',
      '-u',
      'nobody',
      '-w',
      '/tmp',
      id,
      'sh',
      '-c',
      'echo $BASE $X $(id -u) $(pwd); echo oops >&2; exit 4',
    ]);
    assert.equal(out.code, 4, out.stderr);
    assert.equal(out.stdout, '1 2 65534 /tmp\n');
    assert.equal(out.stderr, 'oops\n');
    const piped = await daemon.d.docker(['exec', '-i', id, 'sh', '-c', 'cat; echo done'], {
      input: 'from stdin\n',
    });
    assert.equal(piped.stdout, 'from stdin\ndone\n');
    // Docker's exec answers any failure to start the process with 126, a missing one too.
    const nf = await daemon.d.docker(['exec', id, '/nope']);
    assert.equal(nf.code, 126, nf.stderr);
    // inspect through the API
    const create = await daemon.d.request(
      'POST',
      `/containers/${id}/exec`,
      JSON.stringify({ Cmd: ['sh', '-c', 'exit 9'] }),
      {
        'Content-Type': 'application/json',
      },
    );
    const execId = JSON.parse(create.body.toString()).Id;
    await daemon.d.request('POST', `/exec/${execId}/start`, JSON.stringify({ Detach: false }), {
      'Content-Type': 'application/json',
    });
    const info = JSON.parse((await daemon.d.request('GET', `/exec/${execId}/json`)).body.toString());
    assert.equal(info.ExitCode, 9);
    assert.equal(info.Running, false);
    await daemon.d.docker(['stop', '-t', '0', id]);
    const stopped = await daemon.d.request(
      'POST',
      `/containers/${id}/exec`,
      JSON.stringify({ Cmd: ['true'] }),
      {
        'Content-Type': 'application/json',
      },
    );
    assert.equal(stopped.status, 409);
    assert.match(JSON.parse(stopped.body.toString()).message, /is not running/);
    await daemon.d.docker(['rm', id]);
  });
});

describe('events', () => {
  test('run --rm emits create, start, die (with exit code), destroy in order', async () => {
    const since = Date.now() / 1000;
    await daemon.d.docker(['run', '--rm', '--name', 'evented', 'busybox', 'sh', '-c', 'exit 2']);
    const until = Date.now() / 1000 + 0.5;
    const r = await daemon.d.docker([
      'events',
      '--since',
      since.toFixed(3),
      '--until',
      until.toFixed(3),
      '--filter',
      'container=evented',
      '--format',
      '{{.Action}} {{index .Actor.Attributes "name"}} {{index .Actor.Attributes "exitCode"}}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' ')[0]),
      ['create', 'start', 'die', 'destroy'],
    );
    assert.equal(lines[2], 'die evented 2');
  });
});

describe('surviving the daemon', () => {
  test('kill -9 of berthd leaves containers running; the next berthd adopts them and sees exits', async () => {
    const long = (
      await daemon.d.docker(['run', '-d', 'busybox', 'sh', '-c', 'echo long; sleep 30'])
    ).stdout.trim();
    const short = (
      await daemon.d.docker([
        'run',
        '-d',
        'busybox',
        'sh',
        '-c',
        'read x < /dev/null; sleep 1; echo short; exit 5',
      ])
    ).stdout.trim();
    await daemon.d.kill9();
    await new Promise((r) => setTimeout(r, 1800)); // the short one exits while berthd is down
    daemon.d = await daemon.d.restart();
    const ls = await daemon.d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', long, short]);
    assert.equal(ls.stdout.trim(), 'running 0\nexited 5');
    assert.equal((await daemon.d.docker(['logs', short])).stdout, 'short\n');
    const killed = await daemon.d.docker(['kill', long]);
    assert.equal(killed.code, 0, killed.stderr);
    const w = await daemon.d.docker(['wait', long]);
    assert.equal(w.stdout.trim(), '137');
    await daemon.d.docker(['rm', long, short]);
  });
});
