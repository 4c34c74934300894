// Exec output framing follows the start request's Tty, as Docker's router does: docker-py's
// exec_start sends Tty false by default, also for an exec created with a terminal, and reads
// stdout frames; Berth framed by the exec's own Tty and docker-py read garbage.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

const CMD = 'sh -c "echo hello out; sleep 0.3; echo hello err >&2"';

test("docker-py's exec_start, with and without a terminal, streamed and demultiplexed", async () => {
  const script = `
import docker, json
c = docker.APIClient(base_url="${daemon.d.host}", version="1.41")
ct = c.create_container("busybox", "cat", detach=True, stdin_open=True, name="pyexec")
c.start(ct)
def b(x):
    if isinstance(x, tuple): return [None if y is None else y.decode("latin1") for y in x]
    if isinstance(x, list): return [b(y) for y in x]
    return x.decode("latin1")
cmd = ${JSON.stringify(CMD)}
out = {}
for tty in (False, True):
    for stream in (False, True):
        for demux in (False, True):
            r = c.exec_create(ct, cmd, tty=tty)
            res = c.exec_start(r, stream=stream, demux=demux)
            out[f"{tty}-{stream}-{demux}"] = b(list(res) if stream else res)
print(json.dumps(out))
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  // Without a terminal: separate streams, in docker-py's expectations (api_exec_test.py).
  assert.ok((out['False-False-False'] as string).includes('hello out\n'));
  assert.ok((out['False-False-False'] as string).includes('hello err\n'));
  assert.deepEqual(out['False-False-True'], ['hello out\n', 'hello err\n']);
  assert.deepEqual(out['False-True-True'], [
    ['hello out\n', null],
    [null, 'hello err\n'],
  ]);
  // With a terminal, started with Tty false: the terminal's bytes as stdout frames.
  assert.equal(out['True-False-False'], 'hello out\r\nhello err\r\n');
  assert.deepEqual(out['True-False-True'], ['hello out\r\nhello err\r\n', null]);
  const streamed = (out['True-True-False'] as string[]).join('');
  assert.equal(streamed, 'hello out\r\nhello err\r\n');
});

/** Raw exec start on the socket: the 101 head and every byte after it. */
function startRaw(id: string, body: object, version = ''): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect(daemon.d.socket);
    const chunks: Buffer[] = [];
    c.on('data', (b: Buffer) => chunks.push(b));
    c.on('end', () => resolve(Buffer.concat(chunks)));
    c.on('error', reject);
    const json = JSON.stringify(body);
    c.write(
      `POST ${version}/exec/${id}/start HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${json.length}\r\n\r\n${json}`,
    );
    setTimeout(() => {
      c.destroy();
      resolve(Buffer.concat(chunks));
    }, 15_000).unref();
  });
}

async function createExec(tty: boolean): Promise<string> {
  const r = await daemon.d.request(
    'POST',
    '/containers/pyexec/exec',
    JSON.stringify({
      Cmd: ['sh', '-c', 'printf out; printf err >&2'],
      Tty: tty,
      AttachStdout: true,
      AttachStderr: true,
    }),
    { 'Content-Type': 'application/json' },
  );
  assert.equal(r.status, 201, r.body.toString());
  return (JSON.parse(r.body.toString()) as { Id: string }).Id;
}

function payload(all: Buffer): { head: string; body: Buffer } {
  const at = all.indexOf('\r\n\r\n');
  return { head: all.subarray(0, at).toString(), body: all.subarray(at + 4) };
}

test('exact bytes: pipes started with Tty true are raw, a terminal started with Tty false is framed', async () => {
  const rawPipes = payload(await startRaw(await createExec(false), { Tty: true }));
  assert.match(
    rawPipes.head,
    /^HTTP\/1\.1 101 UPGRADED\r\nContent-Type: application\/vnd\.docker\.raw-stream/,
  );
  assert.deepEqual([...rawPipes.body].sort(), [...Buffer.from('outerr')].sort());
  assert.equal(rawPipes.body.length, 6);

  const framed = payload(await startRaw(await createExec(true), { Tty: false }, '/v1.43'));
  assert.match(framed.head, /Content-Type: application\/vnd\.docker\.multiplexed-stream/);
  // one or more stdout frames (stream 1, three zero bytes, big-endian length), nothing else
  let text = '';
  for (let at = 0; at < framed.body.length; ) {
    assert.deepEqual([...framed.body.subarray(at, at + 4)], [1, 0, 0, 0]);
    const n = framed.body.readUInt32BE(at + 4);
    text += framed.body.subarray(at + 8, at + 8 + n).toString();
    at += 8 + n;
  }
  assert.equal(text, 'outerr');

  // Docker names the multiplexed type only from API 1.42; 1.41 says raw-stream for the same frames.
  const old = payload(await startRaw(await createExec(false), { Tty: false }, '/v1.41'));
  assert.match(old.head, /Content-Type: application\/vnd\.docker\.raw-stream/);
  assert.equal(old.body[0] === 1 || old.body[0] === 2, true);
});

test('the docker CLI: exec -t and exec without a terminal still print as before', async () => {
  assert.equal(ok(await daemon.d.docker(['exec', 'pyexec', 'sh', '-c', 'echo a; echo b >&2'])), 'a\n');
  const t = await daemon.d.docker(['exec', '-t', 'pyexec', 'echo', 'tty']);
  assert.equal(t.stdout, 'tty\r\n', t.stderr);
});

test("an exec that cannot start exits 126, a missing command too (docker-py's exec_run)", async () => {
  const script = `
import docker, json
c = docker.DockerClient(base_url="${daemon.d.host}", version="1.41")
ct = c.containers.get("pyexec")
print(json.dumps([ct.exec_run("docker ps")[0], ct.exec_run("/etc/passwd")[0], ct.exec_run("true")[0]]))
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [126, 126, 0]);
});

test('an exec start that fails after the hijack tells why in a stdout frame, and the CLI exits 126', async () => {
  const d = daemon.d;
  const id = ok(await d.docker(['run', '-d', 'busybox', 'sleep', '60'])).trim();
  try {
    for (const args of [['exec'], ['exec', '-i']]) {
      const r = await d.docker([...args, '-u', 'nosuchuser', id, 'true'], { input: '', timeoutMs: 20_000 });
      assert.equal(r.code, 126, JSON.stringify(r));
      assert.doesNotMatch(r.stdout + r.stderr, /Unrecognized input header/);
      assert.match(r.stdout + r.stderr, /nosuchuser/);
    }
  } finally {
    await d.docker(['rm', '-f', id]);
  }
});
