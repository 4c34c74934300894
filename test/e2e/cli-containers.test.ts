// The berth CLI's container commands against a real berthd: exec, pause/unpause, restart, rename,
// container prune, events and the generic inspect.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function runDetached(name: string): Promise<string> {
  return ok(await daemon.d.berth(['run', '-d', '--name', name, 'busybox', 'sleep', '300'])).trim();
}

describe('berth exec', () => {
  test('prints the output and exits with the command status', async () => {
    await runDetached('ex1');
    const r = await daemon.d.berth(['exec', 'ex1', 'sh', '-c', 'echo out; echo err >&2; exit 4']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const r2 = await daemon.d.berth([
      'container',
      'exec',
      '-e',
      'A=1',
      '-w',
      '/tmp',
      'ex1',
      'sh',
      '-c',
      'echo $A $(pwd)',
    ]);
    assert.equal(ok(r2), '1 /tmp\n');
    // Options after the command belong to it.
    assert.equal(ok(await daemon.d.berth(['exec', 'ex1', 'ls', '-d', '/etc'])), '/etc\n');
  });

  test('-i pipes stdin and closes it at EOF', async () => {
    await runDetached('ex2');
    const r = await daemon.d.berth(['exec', '-i', 'ex2', 'sh', '-c', 'tr a-z A-Z; echo done'], {
      input: 'hello\nworld\n',
    });
    assert.equal(ok(r), 'HELLO\nWORLD\ndone\n');
  });

  test('-d runs in the background and prints nothing', async () => {
    const r = await daemon.d.berth(['exec', '-d', 'ex1', 'sh', '-c', 'echo bg > /tmp/bg']);
    assert.equal(ok(r), '');
    let out = '';
    for (let i = 0; i < 50 && out !== 'bg\n'; i++) {
      out = (await daemon.d.berth(['exec', 'ex1', 'cat', '/tmp/bg'])).stdout;
      if (out !== 'bg\n') await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(out, 'bg\n');
  });

  test('-t gives the command a terminal (raw output); a stopped container is an error', async () => {
    const t = await daemon.d.berth(['exec', '-t', 'ex1', 'sh', '-c', 'test -t 1 && echo on-a-tty; exit 3']);
    assert.equal(t.code, 3, t.stderr);
    assert.equal(t.stdout, 'on-a-tty\r\n');
    const i = await daemon.d.berth(['exec', '-it', 'ex1', 'true'], { input: '' });
    assert.equal(i.code, 1);
    assert.match(i.stderr, /the input device is not a TTY/);
    await daemon.d.berth(['create', '--name', 'ex-created', 'busybox', 'true']);
    const s = await daemon.d.berth(['exec', 'ex-created', 'true']);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /Error response from daemon: .*not running/);
  });
});

describe('lifecycle commands', () => {
  test('pause, unpause, restart and rename', async () => {
    const id = await runDetached('life1');
    const status = async (n: string) =>
      ok(await daemon.d.berth(['inspect', '-f', '{{.State.Status}}', n])).trim();
    assert.equal(ok(await daemon.d.berth(['pause', 'life1'])), 'life1\n');
    assert.equal(await status('life1'), 'paused');
    assert.equal(ok(await daemon.d.berth(['container', 'unpause', 'life1'])), 'life1\n');
    assert.equal(await status('life1'), 'running');

    const before = ok(await daemon.d.berth(['inspect', '-f', '{{.State.StartedAt}}', 'life1'])).trim();
    assert.equal(ok(await daemon.d.berth(['restart', '-t', '0', 'life1'])), 'life1\n');
    const afterStart = ok(await daemon.d.berth(['inspect', '-f', '{{.State.StartedAt}}', 'life1'])).trim();
    assert.notEqual(afterStart, before);
    assert.equal(await status('life1'), 'running');

    assert.equal(ok(await daemon.d.berth(['rename', 'life1', 'life2'])), '');
    assert.equal(
      ok(await daemon.d.berth(['inspect', '-f', '{{.Name}} {{.Id}}', 'life2'])).trim(),
      `/life2 ${id}`,
    );
    assert.equal(ok(await daemon.d.berth(['container', 'rename', 'life2', 'life3'])), '');
    assert.equal(await status('life3'), 'running');

    const missing = await daemon.d.berth(['pause', 'nope-x']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error response from daemon: No such container: nope-x/);
  });
});

describe('berth container prune', () => {
  test('-f removes stopped containers and lists them', async () => {
    const a = ok(await daemon.d.berth(['create', '--label', 'prune=me', 'busybox', 'true'])).trim();
    const b = ok(await daemon.d.berth(['create', '--label', 'prune=me', 'busybox', 'true'])).trim();
    const r = ok(await daemon.d.berth(['container', 'prune', '-f', '--filter', 'label=prune=me']));
    const [head, ...rest] = r.split('\n');
    assert.equal(head, 'Deleted Containers:');
    assert.deepEqual(rest.slice(0, 2).sort(), [a, b].sort());
    assert.equal(rest.slice(2).join('\n'), '\nTotal reclaimed space: 0B\n');
    assert.equal((await daemon.d.berth(['inspect', a])).code, 1);
  });

  test('asks first and does nothing unless answered yes', async () => {
    const c = ok(await daemon.d.berth(['create', '--label', 'prune=ask', 'busybox', 'true'])).trim();
    const no = await daemon.d.berth(['container', 'prune', '--filter', 'label=prune=ask'], { input: 'n\n' });
    // Cancelled, docker 28 prints nothing more and exits 0.
    assert.equal(
      ok(no),
      'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ',
    );
    assert.equal(ok(await daemon.d.berth(['inspect', '-f', '{{.Id}}', c])).trim(), c);
    const yes = await daemon.d.berth(['container', 'prune', '--filter', 'label=prune=ask'], { input: 'y\n' });
    assert.match(ok(yes), new RegExp(`Deleted Containers:\\n${c}\\n`));
  });
});

describe('berth events', () => {
  test('--since/--until with a container filter and a format', async () => {
    const start = Math.floor(Date.now() / 1000) - 1;
    ok(await daemon.d.berth(['run', '--rm', '--name', 'ev1', 'busybox', 'true']));
    const end = String(Math.floor(Date.now() / 1000) + 1);
    const r = await daemon.d.berth([
      'events',
      '--since',
      String(start),
      '--until',
      end,
      '--filter',
      'container=ev1',
      '--format',
      '{{.Action}}',
    ]);
    const actions = ok(r).trim().split('\n');
    for (const a of ['create', 'start', 'die', 'destroy']) assert.ok(actions.includes(a), actions.join(','));

    // The default text format, with a relative --since.
    const text = ok(
      await daemon.d.berth(['events', '--since', '10m', '--until', end, '--filter', 'container=ev1']),
    );
    const line = text.split('\n').find((l) => / container start /.test(l));
    assert.ok(line, text);
    assert.match(
      line,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container start [0-9a-f]{64} \(.*name=ev1.*\)$/,
    );
    const attrs = /\((.*)\)$/.exec(line)?.[1] ?? '';
    const keys = attrs.split(', ').map((kv) => kv.split('=')[0] ?? '');
    assert.deepEqual(keys, [...keys].sort());
  });
});

describe('berth inspect', () => {
  test('a container, an image, both kinds at once, and --type', async () => {
    const id = await runDetached('insp1');
    const c = JSON.parse(ok(await daemon.d.berth(['inspect', 'insp1'])));
    assert.equal(c.length, 1);
    assert.equal(c[0].Id, id);
    const img = JSON.parse(ok(await daemon.d.berth(['inspect', 'busybox'])));
    assert.ok(String(img[0].Id).startsWith('sha256:'));
    assert.ok(Array.isArray(img[0].RepoTags));
    const both = ok(await daemon.d.berth(['inspect', '-f', '{{.Id}}', 'insp1', 'busybox']))
      .trim()
      .split('\n');
    assert.equal(both[0], id);
    assert.equal(both[1], img[0].Id);
    const raw = ok(await daemon.d.berth(['container', 'inspect', 'insp1']));
    assert.ok(raw.startsWith('[\n    {\n        "Id": '), raw.slice(0, 40));
    const t = await daemon.d.berth(['inspect', '--type', 'image', 'insp1']);
    assert.equal(t.code, 1);
    assert.equal(t.stderr, 'Error: No such image: insp1\n');
  });

  test('a missing object is an error, after printing what was found', async () => {
    const r = await daemon.d.berth(['inspect', 'no-such-thing']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '[]\n');
    assert.equal(r.stderr, 'Error: No such object: no-such-thing\n');
    const mixed = await daemon.d.berth(['inspect', '-f', '{{.Name}}', 'insp1', 'no-such-thing']);
    assert.equal(mixed.code, 1);
    assert.equal(mixed.stdout, '/insp1\n');
    const ci = await daemon.d.berth(['container', 'inspect', 'busybox']);
    assert.equal(ci.code, 1);
    assert.equal(ci.stderr, 'Error response from daemon: No such container: busybox\n');
  });
});

describe('berth start -a/-i and run -a', () => {
  test('start -ai feeds stdin, prints output and returns the exit code', async () => {
    const id = ok(
      await daemon.d.berth(['create', '-i', 'busybox', 'sh', '-c', 'cat; echo end; exit 2']),
    ).trim();
    const r = await daemon.d.berth(['start', '-ai', id], { input: 'data\n' });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, 'data\nend\n');
  });

  test('run -a stdout attaches only stdout; -a with -d conflicts', async () => {
    const r = await daemon.d.berth([
      'run',
      '--rm',
      '-a',
      'stdout',
      'busybox',
      'sh',
      '-c',
      'echo out; echo err >&2',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, '');
    const c = await daemon.d.berth(['run', '-d', '-a', 'stdout', 'busybox', 'true']);
    assert.equal(c.code, 125);
    assert.match(c.stderr, /Conflicting options: -a and -d/);
    const s = await daemon.d.berth(['run', '--rm', '-a', 'stdin', '-a', 'stdout', 'busybox', 'cat'], {
      input: 'piped\n',
    });
    assert.equal(s.stdout, 'piped\n');
  });
});
