// CRI PortForward through the streaming server, end to end: a pod sandbox (its pinned netns), a
// listener the test starts inside that netns (busybox nc via nsenter), the PortForward RPC's URL
// and a websocket client speaking port-forward's v4 channel protocol (ws). Bytes go both ways;
// a refused port reports on the error channel; tokens are single use; bad calls name the field.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type CriDaemon, startCriDaemon } from '../helpers/cri.ts';
import { openChannels } from '../helpers/k8s-channels.ts';
import { readAll, upgradeSpdy } from '../helpers/k8s-spdy.ts';
import type { Msg } from '../../src/cri/server.ts';

let cri: CriDaemon;
let podId = '';
let netns = '';
const listeners = new Set<ChildProcessWithoutNullStreams>();

before(async () => {
  cri = await startCriDaemon();
  const { pod_sandbox_id } = await cri.runtime('RunPodSandbox', {
    config: {
      metadata: { name: 'pf', uid: `pf-${process.pid}`, namespace: 'default', attempt: 0 },
      hostname: 'pf',
      linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    },
  });
  podId = pod_sandbox_id;
  const st = await cri.runtime('PodSandboxStatus', { pod_sandbox_id: podId, verbose: true });
  netns = JSON.parse(st.info.info).netNamespacePath;
  assert.ok(netns, 'the pod has a pinned netns');
});
after(async () => {
  for (const l of listeners) if (l.exitCode === null && l.signalCode === null) l.kill('SIGKILL');
  if (podId) await cri?.runtime('RemovePodSandbox', { pod_sandbox_id: podId }).catch(() => {});
  await cri?.cleanup();
});

/** `busybox nc -l -p PORT` inside the pod's netns; resolves once it listens (bounded). */
async function listenInPod(port: number): Promise<ChildProcessWithoutNullStreams> {
  const nc = spawn('nsenter', [`--net=${netns}`, 'busybox', 'nc', '-l', '-p', String(port)]);
  listeners.add(nc);
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (let i = 0; i < 200; i++) {
    // nsenter execs nc: its /proc/PID/net/tcp6 is the pod's table (busybox nc listens on ::,
    // which takes 127.0.0.1 too). State 0A is LISTEN.
    const tcp = (
      await Promise.all(
        ['tcp', 'tcp6'].map((f) => fsp.readFile(`/proc/${nc.pid}/net/${f}`, 'utf8').catch(() => '')),
      )
    ).join('\n');
    if (tcp.split('\n').some((l) => l.includes(hex) && / 0A /.test(l))) return nc;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nc did not listen on ${port} in ${netns}`);
}

const exited = (p: ChildProcessWithoutNullStreams, ms = 10_000) =>
  new Promise<number | null>((resolve, reject) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve(p.exitCode);
    const t = setTimeout(() => reject(new Error('the listener did not exit')), ms);
    p.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });

async function forwardUrl(req: Msg): Promise<string> {
  const { url } = await cri.runtime('PortForward', req);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/portforward\/[A-Za-z0-9_-]{22}$/);
  return url;
}

const code = (c: grpc.status, field?: RegExp) => (err: grpc.ServiceError) => {
  assert.equal(err.code, c, `${grpc.status[err.code]}: ${err.details}`);
  if (field) assert.match(err.details, field);
  return true;
};

const portBytes = (p: number) => Buffer.from([p & 0xff, p >> 8]);

describe('PortForward over websocket (v4.channel.k8s.io)', () => {
  test('bytes both ways between the client and a listener inside the pod netns', async () => {
    const nc = await listenInPod(8080);
    let fromClient = '';
    nc.stdout.on('data', (b: Buffer) => {
      fromClient += b.toString();
    });
    const url = await forwardUrl({ pod_sandbox_id: podId, port: [8080] });
    const c = await openChannels(url, ['v4.channel.k8s.io']);
    assert.equal(c.protocol, 'v4.channel.k8s.io');
    // Each channel of the port opens with the port, 2 bytes little endian.
    await c.until(0, (b) => b.length >= 2);
    await c.until(1, (b) => b.length >= 2);
    assert.deepEqual(c.messages(0)[0], portBytes(8080));
    assert.deepEqual(c.messages(1)[0], portBytes(8080));
    c.send(0, 'hello from the client\n');
    nc.stdin.write('hello from the pod\n');
    await c.until(0, (b) => b.subarray(2).toString() === 'hello from the pod\n');
    for (let i = 0; i < 400 && !fromClient.includes('\n'); i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(fromClient, 'hello from the client\n');
    // The pod's side closes: the server ends the session (no error) and closes the socket.
    nc.stdin.end();
    nc.kill('SIGTERM');
    assert.equal(await c.closed(), 1000);
    assert.equal(c.received(1).length, 2, `no error: ${c.received(1).subarray(2).toString()}`);
    await exited(nc);
  });

  test('a port nothing listens on: the error channel says so (base64 protocol), then close', async () => {
    const url = await forwardUrl({ pod_sandbox_id: podId, port: [8081] });
    const c = await openChannels(url, ['v4.base64.channel.k8s.io']);
    assert.equal(c.protocol, 'v4.base64.channel.k8s.io');
    const err = await c.until(1, (b) => b.length > 2);
    assert.deepEqual(err.subarray(0, 2), portBytes(8081));
    assert.match(
      err.subarray(2).toString(),
      new RegExp(
        `error forwarding port 8081 to pod ${podId}.*failed to connect to localhost:8081.*Connection refused`,
      ),
    );
    assert.equal(await c.closed(), 1000);
  });

  test('two ports on one socket, the ports given as the query parameter', async () => {
    const a = await listenInPod(8082);
    const b = await listenInPod(8083);
    const url = await forwardUrl({ pod_sandbox_id: podId });
    const c = await openChannels(`${url}?ports=8082,8083`, ['v4.channel.k8s.io']);
    a.stdin.write('to port a');
    b.stdin.write('to port b');
    await c.until(0, (x) => x.subarray(2).toString() === 'to port a');
    await c.until(2, (x) => x.subarray(2).toString() === 'to port b');
    assert.deepEqual(c.messages(2)[0], portBytes(8083));
    c.ws.close();
    // The client left: the relays end, so each listener sees its connection close.
    await exited(a);
    await exited(b);
  });
});

describe('PortForward over SPDY/3.1 (portforward.k8s.io, spdy-transport client)', () => {
  test('a data+error stream pair per connection, bytes both ways, two connections on one session', async () => {
    const url = await forwardUrl({ pod_sandbox_id: podId, port: [8086] });
    const c = await upgradeSpdy(url, ['portforward.k8s.io']);
    assert.equal(c.protocol, 'portforward.k8s.io');
    try {
      for (const rid of ['0', '1']) {
        const nc = await listenInPod(8086);
        let fromClient = '';
        nc.stdout.on('data', (b: Buffer) => {
          fromClient += b.toString();
        });
        const error = await c.open({ streamtype: 'error', port: '8086', requestid: rid });
        const data = await c.open({ streamtype: 'data', port: '8086', requestid: rid });
        const errText = readAll(error);
        const got = readAll(data);
        data.write(`request ${rid} from the client\n`);
        // Not ended yet: busybox nc stops at its stdin's EOF, which would drop a late request.
        nc.stdin.write(`reply ${rid} from the pod\n`);
        for (let i = 0; i < 400 && !fromClient.includes('\n'); i++)
          await new Promise((r) => setTimeout(r, 25));
        assert.equal(fromClient, `request ${rid} from the client\n`);
        nc.stdin.end();
        nc.kill('SIGTERM');
        assert.equal(await got, `reply ${rid} from the pod\n`);
        assert.equal(await errText, '');
        await exited(nc);
      }
    } finally {
      c.close();
    }
  });

  test('a refused port: the error stream says why', async () => {
    const url = await forwardUrl({ pod_sandbox_id: podId, port: [8087] });
    const c = await upgradeSpdy(url, ['portforward.k8s.io']);
    try {
      const error = await c.open({ streamtype: 'error', port: '8087', requestid: '0' });
      const errText = readAll(error);
      await c.open({ streamtype: 'data', port: '8087', requestid: '0' });
      assert.match(
        await errText,
        /error forwarding port 8087 to pod .*failed to connect to localhost:8087.*Connection refused/,
      );
    } finally {
      c.close();
    }
  });

  test('protocol negotiation: no header is 400, no common protocol is 403 naming the accepted', async () => {
    await assert.rejects(upgradeSpdy(await forwardUrl({ pod_sandbox_id: podId, port: [80] }), []), {
      status: 400,
    });
    await assert.rejects(
      upgradeSpdy(await forwardUrl({ pod_sandbox_id: podId, port: [80] }), ['v4.channel.k8s.io']),
      {
        status: 403,
        accepted: 'portforward.k8s.io',
      },
    );
  });
});

describe('tokens and refusals', () => {
  test('a URL works once; an unknown token is 404', async () => {
    await listenInPod(8084);
    const url = await forwardUrl({ pod_sandbox_id: podId, port: [8084] });
    const c = await openChannels(url, ['v4.channel.k8s.io']);
    await assert.rejects(openChannels(url, ['v4.channel.k8s.io']), { status: 404 });
    c.ws.close();
    await c.closed();
    await assert.rejects(openChannels(url.replace(/[^/]+$/, 'AAAAAAAAAAAAAAAAAAAAAA'), []), { status: 404 });
    await assert.rejects(openChannels(url.replace('/portforward/', '/exec/'), []), { status: 404 });
  });

  test('a request without an upgrade is 400 and spends the token; an unserved protocol is 400', async () => {
    const url = await forwardUrl({ pod_sandbox_id: podId, port: [8085] });
    const get = (u: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get(u, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => {
              body += c.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    const plain = await get(url);
    assert.equal(plain.status, 400);
    assert.match(plain.body, /websocket/);
    assert.equal((await get(url)).status, 404);
    const url2 = await forwardUrl({ pod_sandbox_id: podId, port: [8085] });
    await assert.rejects(openChannels(url2, ['v3.channel.k8s.io']), (e: Error & { status?: number }) => {
      assert.equal(e.status, 400);
      assert.match(e.message, /not supported: v3\.channel\.k8s\.io; supports v4\.channel\.k8s\.io/);
      return true;
    });
  });

  test('PortForward: unknown pod NOT_FOUND, bad port and empty id INVALID_ARGUMENT', async () => {
    await assert.rejects(
      cri.runtime('PortForward', { pod_sandbox_id: 'f'.repeat(64), port: [80] }),
      code(grpc.status.NOT_FOUND),
    );
    await assert.rejects(
      cri.runtime('PortForward', { pod_sandbox_id: podId, port: [0] }),
      code(grpc.status.INVALID_ARGUMENT, /^port:/),
    );
    await assert.rejects(
      cri.runtime('PortForward', { pod_sandbox_id: podId, port: [70000] }),
      code(grpc.status.INVALID_ARGUMENT, /^port:/),
    );
    await assert.rejects(
      cri.runtime('PortForward', { port: [80] }),
      code(grpc.status.INVALID_ARGUMENT, /^pod_sandbox_id:/),
    );
  });

  test("a pod on the node's network: forwarded to the host's loopback", async () => {
    const { pod_sandbox_id: id } = await cri.runtime('RunPodSandbox', {
      config: {
        metadata: { name: 'pf-host', uid: `pfh-${process.pid}`, namespace: 'default', attempt: 0 },
        linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
      },
    });
    const host = net.createServer((s) => s.end('from the host\n'));
    try {
      host.listen(0, '127.0.0.1');
      await once(host, 'listening');
      const port = (host.address() as net.AddressInfo).port;
      const c = await openChannels(await forwardUrl({ pod_sandbox_id: id, port: [port] }), [
        'v4.channel.k8s.io',
      ]);
      await c.until(0, (b) => b.subarray(2).toString() === 'from the host\n');
      assert.equal(await c.closed(), 1000);
    } finally {
      host.close();
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
    }
  });

  test('a stopped pod cannot be forwarded to', async () => {
    const { pod_sandbox_id: id } = await cri.runtime('RunPodSandbox', {
      config: {
        metadata: { name: 'pf-stopped', uid: `pfs-${process.pid}`, namespace: 'default', attempt: 0 },
      },
    });
    try {
      await cri.runtime('StopPodSandbox', { pod_sandbox_id: id });
      await assert.rejects(
        cri.runtime('PortForward', { pod_sandbox_id: id, port: [80] }),
        code(grpc.status.FAILED_PRECONDITION, /not ready/),
      );
    } finally {
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id });
    }
  });
});
