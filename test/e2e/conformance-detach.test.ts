// Detach keys on attach and exec streams, through docker-py as its own tests use them
// (AttachContainerTest / ExecTest detach tests): the keys end the session, the connection
// closes (those tests waited on a read that never returned), the process keeps running.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

/** Runs a docker-py script with the client `c` and the helpers below; returns its JSON output. */
async function py(body: string): Promise<Record<string, unknown>> {
  const script = `
import docker, json, socket, time
c = docker.APIClient(base_url="${daemon.d.host}", version="1.41")
def raw(s):
    return s._sock if hasattr(s, "_sock") else s
def detach_with(sock, keys):
    # As docker-py's assert_cat_socket_detached_with_keys, with a bounded wait instead of none.
    s = raw(sock)
    s.settimeout(5)
    for k in keys:
        s.sendall(k)
        time.sleep(0.3)
    try:
        s.sendall(b"make sure the socket is closed\\n")
        data = s.recv(128)
    except socket.timeout:
        return "timeout"
    except OSError:
        return "closed"
    return "closed" if data == b"" else "data:" + data.decode("latin1")
def tty_cat(name):
    ct = c.create_container("busybox", "cat", detach=True, stdin_open=True, tty=True, name=name)
    c.start(ct)
    return ct
out = {}
${body}
print(json.dumps(out))
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function pingMs(): Promise<number> {
  const t = performance.now();
  const r = await daemon.d.request('GET', '/_ping');
  assert.equal(r.status, 200);
  return performance.now() - t;
}

test('attach: ctrl-p ctrl-q by default, the client config, the detachKeys parameter', async () => {
  const out = await py(`
ct = tty_cat("d-default")
out["default"] = detach_with(c.attach_socket(ct, {"stdin": True, "stream": True}), [b"\\x10", b"\\x11"])
ct2 = tty_cat("d-config")
c._general_configs["detachKeys"] = "ctrl-p"
out["config"] = detach_with(c.attach_socket(ct2, {"stdin": True, "stream": True}), [b"\\x10"])
ct3 = tty_cat("d-arg")
out["arg"] = detach_with(c.attach_socket(ct3, {"stdin": True, "stream": True, "detachKeys": "ctrl-x"}), [b"\\x18"])
time.sleep(0.5)
out["running"] = [c.inspect_container(x)["State"]["Running"] for x in (ct, ct2, ct3)]
`);
  assert.deepEqual(out, { default: 'closed', config: 'closed', arg: 'closed', running: [true, true, true] });
  assert.ok((await pingMs()) < 1000);
});

test('attach after a detach: the container kept its stdin, and the keys never reached it', async () => {
  const out = await py(`
ct = tty_cat("d-again")
s = c.attach_socket(ct, {"stdin": True, "stream": True, "stdout": True})
raw(s).sendall(b"one\\n\\x10\\x11")
time.sleep(0.5)
s2 = raw(c.attach_socket(ct, {"stdin": True, "stream": True, "stdout": True}))
s2.settimeout(5)
# attach serves output by following the log from its end: let it start before typing
time.sleep(0.5)
s2.sendall(b"two\\n")
got = b""
end = time.time() + 5
while b"two\\r\\n" not in got and time.time() < end:
    try:
        got += s2.recv(4096)
    except socket.timeout:
        break
out["got"] = got.decode("latin1")
out["running"] = c.inspect_container(ct)["State"]["Running"]
`);
  assert.match(out.got as string, /two\r\n/);
  assert.equal(out.running, true);
  const logs = ok(await daemon.d.docker(['logs', 'd-again']));
  assert.match(logs, /one\r\n/);
  assert.doesNotMatch(logs, /[\x10\x11]/);
});

test('exec: ctrl-p ctrl-q by default and the detachKeys of the config; the exec keeps running', async () => {
  const out = await py(`
ct = c.create_container("busybox", "cat", detach=True, stdin_open=True, name="x-host")
c.start(ct)
e = c.exec_create(ct, "cat", stdin=True, tty=True, stdout=True)
out["default"] = detach_with(c.exec_start(e, tty=True, socket=True), [b"\\x10", b"\\x11"])
c._general_configs["detachKeys"] = "ctrl-p"
e2 = c.exec_create(ct, "cat", stdin=True, tty=True, stdout=True)
out["config"] = detach_with(c.exec_start(e2, tty=True, socket=True), [b"\\x10"])
e3 = c.exec_create(ct, "cat", stdin=True, tty=True, stdout=True, detach_keys="a,b")
out["arg"] = detach_with(c.exec_start(e3, tty=True, socket=True), [b"a", b"b"])
time.sleep(0.3)
out["running"] = [c.exec_inspect(x)["Running"] for x in (e, e2, e3)]
out["keys"] = c.exec_inspect(e3)["DetachKeys"]
`);
  assert.deepEqual(out, {
    default: 'closed',
    config: 'closed',
    arg: 'closed',
    running: [true, true, true],
    keys: Buffer.from('ab').toString('base64'),
  });
  assert.ok((await pingMs()) < 1000);
});

test("invalid keys are refused with Docker's message, before any stream opens", async () => {
  const out = await py(`
ct = tty_cat("d-bad")
def err(f):
    try:
        f()
        return None
    except docker.errors.APIError as e:
        return [e.status_code, e.explanation]
out["attach"] = err(lambda: c.attach_socket(ct, {"stdin": True, "stream": True, "detachKeys": "ctrl-1"}))
out["exec"] = err(lambda: c.exec_create(ct, "cat", stdin=True, tty=True, detach_keys="ctrl-P"))
`);
  const [as, am] = out.attach as [number, string];
  assert.equal(as, 400);
  assert.match(am, /^Invalid detach keys \(ctrl-1\) provided/);
  const [es, em] = out.exec as [number, string];
  assert.equal(es, 400);
  assert.match(em, /^Invalid escape keys \(ctrl-P\) provided/);
});

test('detach keys are seen when the start body came after the headers (a paused socket)', async () => {
  const ct = await daemon.d.request(
    'POST',
    '/containers/create?name=d-split',
    JSON.stringify({ Image: 'busybox', Cmd: ['cat'], OpenStdin: true, Tty: true }),
    { 'Content-Type': 'application/json' },
  );
  assert.equal(ct.status, 201, ct.body.toString());
  ok(await daemon.d.docker(['start', 'd-split']));
  const created = await daemon.d.request(
    'POST',
    '/containers/d-split/exec',
    JSON.stringify({ Cmd: ['cat'], Tty: true, AttachStdin: true, AttachStdout: true }),
    { 'Content-Type': 'application/json' },
  );
  const id = (JSON.parse(created.body.toString()) as { Id: string }).Id;
  const body = JSON.stringify({ Tty: true });
  const outcome = await new Promise<string>((resolve) => {
    const c = net.connect(daemon.d.socket);
    let got = '';
    c.on('data', (b: Buffer) => {
      got += b.toString('latin1');
      if (got.includes('\r\n\r\n') && !got.includes('sent')) {
        got += 'sent';
        c.write('\x10\x11');
      }
    });
    c.on('end', () => resolve(`closed: ${got}`));
    c.on('error', () => resolve(`closed: ${got}`));
    c.write(
      `POST /exec/${id}/start HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    setTimeout(() => c.write(body), 50);
    setTimeout(() => {
      c.destroy();
      resolve(`timeout: ${got}`);
    }, 8000).unref();
  });
  assert.match(outcome, /^closed: HTTP\/1\.1 101/);
  // The keys came before the process was up: it still starts, and keeps running.
  await until(
    'the exec to run',
    async () => {
      const inspect = await daemon.d.request('GET', `/exec/${id}/json`);
      return (JSON.parse(inspect.body.toString()) as { Running: boolean }).Running;
    },
    10_000,
  );
  assert.ok((await pingMs()) < 1000);
});
