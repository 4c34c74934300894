// Terminals: run -t / exec -t with the real docker CLI and the berth CLI inside a pseudo-terminal
// made by util-linux `script`, terminal sizes, resize endpoints, detach keys and re-attach.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
  const r = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  if (d) {
    const ids = (await d.berth(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length > 0) await d.berth(['rm', '-f', ...ids]);
    await d.cleanup();
  }
});

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/**
 * Runs a client inside a pseudo-terminal of the given size, typing `keys` after the given
 * delays. Resolves with the client's exit code and everything the terminal showed.
 */
function inTerminal(
  client: 'docker' | 'berth',
  args: string[],
  keys: { afterMs: number; text: string }[] = [],
  size = { rows: 33, cols: 101 },
): Promise<{ code: number; screen: string }> {
  const bin = client === 'docker' ? 'docker' : path.join(ROOT, 'bin/berth');
  const cmd = `stty rows ${size.rows} cols ${size.cols}; exec ${[bin, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], {
      env: {
        ...process.env,
        DOCKER_HOST: d.host,
        BERTH_HOST: d.host,
        DOCKER_CONFIG: path.join(d.dir, 'docker-config'),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (c: Buffer) => {
      screen += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      screen += c.toString();
    });
    const timers = keys.map((k) => setTimeout(() => child.stdin.write(k.text), k.afterMs));
    // Keep stdin open until the last key is typed (EOF would end `script`'s input early).
    const lastKey = Math.max(0, ...keys.map((k) => k.afterMs));
    const close = setTimeout(() => child.stdin.end(), lastKey + 3000);
    const limit = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      for (const t of [...timers, close, limit]) clearTimeout(t);
      resolve({ code: code ?? -1, screen });
    });
  });
}

for (const client of ['docker', 'berth'] as const) {
  describe(`${client} with a terminal`, () => {
    test('run -it: stdin and stdout are a terminal of the client size, TERM is set', async () => {
      const r = await inTerminal(client, [
        'run',
        '--rm',
        '-it',
        'busybox',
        'sh',
        '-c',
        'test -t 0 && test -t 1 && echo IS-A-TTY; stty size; echo TERM=$TERM; exit 5',
      ]);
      assert.equal(r.code, 5, r.screen);
      assert.match(r.screen, /IS-A-TTY/);
      assert.match(r.screen, /33 101/);
      assert.match(r.screen, /TERM=xterm/);
    });

    test('run -it: an interactive shell reads typed lines', async () => {
      const r = await inTerminal(
        client,
        ['run', '--rm', '-it', 'busybox', 'sh'],
        [
          { afterMs: 800, text: 'echo $((6*7))\r' },
          { afterMs: 1200, text: 'exit 3\r' },
        ],
      );
      assert.equal(r.code, 3, r.screen);
      assert.match(r.screen, /\b42\b/);
    });

    test('exec -it: a terminal of the client size, exit code returned', async () => {
      const name = `tty-exec-${client}`;
      assert.equal((await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '300'])).code, 0);
      const r = await inTerminal(client, [
        'exec',
        '-it',
        name,
        'sh',
        '-c',
        'test -t 0 && echo EXEC-TTY; stty size; tty; exit 4',
      ]);
      assert.equal(r.code, 4, r.screen);
      assert.match(r.screen, /EXEC-TTY/);
      assert.match(r.screen, /33 101/);
      assert.match(r.screen, /\/dev\/pts\/\d+/);
      const nf = await inTerminal(client, ['exec', '-it', name, 'no-such-command']);
      assert.equal(nf.code, 126, nf.screen); // Docker's exec: 126 for any failure to start
    });

    test('ctrl-p ctrl-q detaches and leaves the container running; attach joins it again', async () => {
      const name = `tty-detach-${client}`;
      const r = await inTerminal(
        client,
        ['run', '-it', '--name', name, 'busybox', 'sh'],
        [{ afterMs: 1000, text: '\x10\x11' }],
      );
      assert.equal(r.code, 0, r.screen);
      const state = await d.docker(['inspect', '-f', '{{.State.Running}}', name]);
      assert.equal(state.stdout.trim(), 'true');
      const again = await inTerminal(
        client,
        ['attach', name],
        [
          { afterMs: 800, text: 'echo back-$((1+1))\r' },
          { afterMs: 1300, text: 'exit 9\r' },
        ],
      );
      assert.equal(again.code, 9, again.screen);
      assert.match(again.screen, /back-2/);
    });

    test('--detach-keys reach the daemon too: ctrl-p ctrl-q go to the process, the chosen key detaches', async () => {
      const name = `tty-keys-${client}`;
      const r = await inTerminal(
        client,
        ['run', '-it', '--detach-keys', 'ctrl-x', '--name', name, 'busybox', 'sh'],
        [
          { afterMs: 1000, text: '\x10\x11' },
          { afterMs: 1400, text: 'echo still-$((2+2))\r' },
          { afterMs: 2000, text: '\x18' },
        ],
      );
      assert.equal(r.code, 0, r.screen);
      assert.match(r.screen, /still-4/);
      const state = await d.docker(['inspect', '-f', '{{.State.Running}}', name]);
      assert.equal(state.stdout.trim(), 'true');
    });
  });
}

describe('resize endpoints', () => {
  test('POST /containers/{id}/resize changes the size the container sees', async () => {
    const id = (await d.docker(['run', '-dit', 'busybox', 'sh'])).stdout.trim();
    const r = await d.request('POST', `/containers/${id}/resize?h=41&w=123`);
    assert.equal(r.status, 200, r.body.toString());
    const size = await d.docker(['exec', id, 'sh', '-c', 'stty size < /dev/pts/0']);
    assert.equal(size.stdout.trim(), '41 123');
    const bad = await d.request('POST', `/containers/${id}/resize?h=x&w=1`);
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body.toString()).message, /invalid terminal height "x"/);
  });

  test('resizing a stopped container is a 409', async () => {
    const id = (await d.docker(['create', '-t', 'busybox', 'true'])).stdout.trim();
    const r = await d.request('POST', `/containers/${id}/resize?h=10&w=10`);
    assert.equal(r.status, 409);
  });
});

describe('--detach-keys', () => {
  test('a custom sequence detaches (berth)', async () => {
    const r = await inTerminal(
      'berth',
      ['run', '-it', '--detach-keys', 'ctrl-a,x', '--name', 'tty-keys', 'busybox', 'sh'],
      [{ afterMs: 1000, text: '\x01x' }],
    );
    assert.equal(r.code, 0, r.screen);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'tty-keys'])).stdout.trim(), 'true');
  });

  test('an invalid sequence is refused before anything is created', async () => {
    const before = (await d.docker(['ps', '-aq'])).stdout;
    const r = await d.berth(['run', '--detach-keys', 'ctrl-é', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Invalid detach keys/);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, before);
  });
});
