// CRI Exec through the streaming server, end to end, as a kubelet or crictl runs it: the Exec
// RPC's URL, then a websocket client (ws, remotecommand v5/v4) or a SPDY/3.1 client
// (spdy-transport, remotecommand v4) on it. stdout and stderr arrive apart with the exit code
// as the v4 status; stdin ends with v5's close signal; a terminal session takes resizes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type CriPods, type Pod, startCriPods } from '../helpers/cri-pods.ts';
import { openChannels } from '../helpers/k8s-channels.ts';
import { readAll, upgradeSpdy } from '../helpers/k8s-spdy.ts';
import type { Msg } from '../../src/cri/server.ts';

let t: CriPods;
let pod: Pod;
let box: string;

before(async () => {
  t = await startCriPods();
  pod = await t.runPod();
  box = await t.runCtr(pod, t.ctrConfig('box', ['sleep', '3600']));
});
after(async () => {
  await t?.cleanup();
});

async function execUrl(req: Msg): Promise<string> {
  const { url } = await t.cri.runtime('Exec', { container_id: box, ...req });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{22}$/);
  return url;
}

const code = (c: grpc.status, detail?: RegExp) => (err: grpc.ServiceError) => {
  assert.equal(err.code, c, `${grpc.status[err.code]}: ${err.details}`);
  if (detail) assert.match(err.details, detail);
  return true;
};

const exitCause = (status: string) => JSON.parse(status).details?.causes?.[0];

const script = ['sh', '-c', 'echo out; echo err >&2; exit 3'];

describe('Exec over websocket', () => {
  test('v5: stdout and stderr apart, exit code 3 as the NonZeroExitCode status', async () => {
    const c = await openChannels(await execUrl({ cmd: script, stdout: true, stderr: true }), [
      'v5.channel.k8s.io',
      'v4.channel.k8s.io',
    ]);
    assert.equal(c.protocol, 'v5.channel.k8s.io');
    assert.equal(await c.closed(), 1000);
    assert.equal(c.received(1).toString(), 'out\n');
    assert.equal(c.received(2).toString(), 'err\n');
    const st = JSON.parse(c.received(3).toString());
    assert.equal(st.status, 'Failure');
    assert.equal(st.reason, 'NonZeroExitCode');
    assert.deepEqual(exitCause(c.received(3).toString()), { reason: 'ExitCode', message: '3' });
  });

  test('stdin ended by the v5 close signal; success is a Success status', async () => {
    const c = await openChannels(
      await execUrl({ cmd: ['sh', '-c', 'tr a-z A-Z'], stdin: true, stdout: true }),
      ['v5.channel.k8s.io'],
    );
    c.send(0, 'piped through\n');
    c.closeChannel(0);
    assert.equal(await c.closed(), 1000);
    assert.equal(c.received(1).toString(), 'PIPED THROUGH\n');
    assert.deepEqual(JSON.parse(c.received(3).toString()), { metadata: {}, status: 'Success' });
  });

  test('a terminal: output on stdout, the size follows resizes on channel 4', async () => {
    const c = await openChannels(
      await execUrl({
        cmd: ['sh', '-c', 'read a; stty size; read b; stty size'],
        tty: true,
        stdin: true,
        stdout: true,
      }),
      ['v4.channel.k8s.io'],
    );
    c.send(4, JSON.stringify({ Width: 80, Height: 24 }));
    c.send(0, 'one\r');
    await c.until(1, (b) => /24 80/.test(b.toString()));
    c.send(4, JSON.stringify({ Width: 132, Height: 43 }));
    c.send(0, 'two\r');
    await c.until(1, (b) => /43 132/.test(b.toString()));
    assert.equal(await c.closed(), 1000);
    assert.deepEqual(JSON.parse(c.received(3).toString()), { metadata: {}, status: 'Success' });
    assert.equal(c.received(2).length, 0, 'a terminal has no separate stderr');
  });

  test('a missing binary: an InternalError status naming it', async () => {
    const c = await openChannels(await execUrl({ cmd: ['/no/such/binary'], stdout: true }), [
      'v4.channel.k8s.io',
    ]);
    assert.equal(await c.closed(), 1000);
    const st = JSON.parse(c.received(3).toString());
    assert.equal(st.reason, 'InternalError');
    assert.match(st.message, /no such file|not found/);
  });
});

describe('Exec over SPDY/3.1 (v4.channel.k8s.io)', () => {
  test('streams per stdio plus error: output apart, exit code 3 in the status', async () => {
    const c = await upgradeSpdy(await execUrl({ cmd: script, stdout: true, stderr: true }), [
      'v4.channel.k8s.io',
      'v3.channel.k8s.io',
    ]);
    assert.equal(c.protocol, 'v4.channel.k8s.io');
    try {
      const error = await c.open({ streamtype: 'error' });
      error.end();
      const out = await c.open({ streamtype: 'stdout' });
      out.end();
      const err = await c.open({ streamtype: 'stderr' });
      err.end();
      const [status, o, e] = await Promise.all([readAll(error), readAll(out), readAll(err)]);
      assert.equal(o, 'out\n');
      assert.equal(e, 'err\n');
      assert.deepEqual(exitCause(status), { reason: 'ExitCode', message: '3' });
    } finally {
      c.close();
    }
  });

  test('stdin to the end, then the process exits 0: a Success status', async () => {
    const c = await upgradeSpdy(await execUrl({ cmd: ['cat'], stdin: true, stdout: true }), [
      'v4.channel.k8s.io',
    ]);
    try {
      const error = await c.open({ streamtype: 'error' });
      error.end();
      const stdin = await c.open({ streamtype: 'stdin' });
      const out = await c.open({ streamtype: 'stdout' });
      out.end();
      const got = readAll(out);
      const status = readAll(error);
      stdin.end('through cat\n');
      assert.equal(await got, 'through cat\n');
      assert.deepEqual(JSON.parse(await status), { metadata: {}, status: 'Success' });
    } finally {
      c.close();
    }
  });
});

describe('Exec with a terminal over SPDY (v4: stdin, stdout, error and resize streams)', () => {
  test('the resize stream sets the terminal size the process reads', async () => {
    const c = await upgradeSpdy(
      // Two SPDY streams have no order between them: the input may overtake the resize, so the
      // script waits (bounded) for a size before printing it.
      await execUrl({
        cmd: [
          'sh',
          '-c',
          'read a; i=0; until s=$(stty size 2>/dev/null) && [ -n "$s" ] || [ $i -ge 100 ]; do i=$((i+1)); sleep 0.05; done; echo "$s"',
        ],
        tty: true,
        stdin: true,
        stdout: true,
      }),
      ['v4.channel.k8s.io'],
    );
    try {
      const error = await c.open({ streamtype: 'error' });
      error.end();
      const stdin = await c.open({ streamtype: 'stdin' });
      const out = await c.open({ streamtype: 'stdout' });
      out.end();
      const resize = await c.open({ streamtype: 'resize' });
      const got = readAll(out);
      const status = readAll(error);
      resize.write(JSON.stringify({ Width: 101, Height: 33 }));
      stdin.write('go\r');
      assert.match(await got, /33 101/);
      assert.deepEqual(JSON.parse(await status), { metadata: {}, status: 'Success' });
    } finally {
      c.close();
    }
  });
});

describe('Attach', () => {
  test('stdin into the main process, its stdout and stderr apart, until the client leaves', async () => {
    const talker = await t.runCtr(
      pod,
      t.ctrConfig('talker', ['sh', '-c', 'while read l; do echo "got $l"; echo "err $l" >&2; done'], {
        stdin: true,
      }),
    );
    const { url } = await t.cri.runtime('Attach', {
      container_id: talker,
      stdin: true,
      stdout: true,
      stderr: true,
    });
    assert.match(url, /\/attach\/[A-Za-z0-9_-]{22}$/);
    const c = await openChannels(url, ['v5.channel.k8s.io']);
    c.send(0, 'one\n');
    await c.until(1, (b) => b.toString() === 'got one\n');
    await c.until(2, (b) => b.toString() === 'err one\n');
    c.send(0, 'two\n');
    await c.until(1, (b) => b.toString() === 'got one\ngot two\n');
    c.ws.close();
    await c.closed();
    // The process outlives the session (stdin stays open for the next attach).
    assert.equal((await t.status(talker)).state, 'CONTAINER_RUNNING');
    // A second attach sees only what comes after it.
    const again = await openChannels(
      (await t.cri.runtime('Attach', { container_id: talker, stdin: true, stdout: true })).url,
      ['v4.channel.k8s.io'],
    );
    again.send(0, 'three\n');
    await again.until(1, (b) => b.toString() === 'got three\n');
    again.ws.close();
    await again.closed();
  });
});

describe('Exec and Attach refusals', () => {
  test('tty with stderr, no stream, no command, unknown container', async () => {
    await assert.rejects(
      t.cri.runtime('Exec', { container_id: box, cmd: ['true'], tty: true, stdout: true, stderr: true }),
      code(grpc.status.INVALID_ARGUMENT, /^stderr: tty and stderr/),
    );
    await assert.rejects(
      t.cri.runtime('Exec', { container_id: box, cmd: ['true'] }),
      code(grpc.status.INVALID_ARGUMENT, /one of stdin, stdout, or stderr/),
    );
    await assert.rejects(
      t.cri.runtime('Exec', { container_id: box, cmd: [], stdout: true }),
      code(grpc.status.INVALID_ARGUMENT, /^cmd:/),
    );
    await assert.rejects(
      t.cri.runtime('Exec', { container_id: 'f'.repeat(64), cmd: ['true'], stdout: true }),
      code(grpc.status.NOT_FOUND),
    );
    await assert.rejects(
      t.cri.runtime('Attach', { container_id: 'f'.repeat(64), stdout: true }),
      code(grpc.status.NOT_FOUND),
    );
  });
});
