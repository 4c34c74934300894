// Issue 14 probe: request bodies over the daemon's limit are a 413 (Docker's status for it),
// not a 400, and a body whose declared Content-Length is over the limit is refused at once,
// before its body is read (the reply waits at most the server's 5 s drain, so a client still
// writing reads the error rather than a reset), so a client cannot hold the daemon reading
// gigabytes.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.cleanup();
});

test('a 5 MiB JSON body is a 413 that says what the limit is', async () => {
  const body = JSON.stringify({ Image: 'busybox', Labels: { big: 'x'.repeat(5 << 20) } });
  for (const p of ['/containers/create', '/networks/create', '/volumes/create']) {
    const r = await d.request('POST', p, body, { 'Content-Type': 'application/json' });
    assert.equal(r.status, 413, `${p}: ${r.status} ${r.body}`);
    assert.match(JSON.parse(r.body.toString()).message, /request body larger than 4194304 bytes/);
  }
});

test('a declared 10 GB body is refused before it is sent; the daemon stays responsive', async () => {
  const t0 = performance.now();
  const pending = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        socketPath: d.socket,
        method: 'POST',
        path: '/containers/create',
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(10 * 1024 ** 3) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
          req.destroy();
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () =>
      req.destroy(new Error('no answer within 10 s: the daemon waits for the body')),
    );
    req.write('{"Image":"busybox"'); // then nothing more: a client that never finishes
  });
  await new Promise((r) => setTimeout(r, 300));
  const t = performance.now();
  assert.equal((await d.request('GET', '/_ping')).status, 200);
  assert.ok(performance.now() - t < 1000, `/_ping took ${Math.round(performance.now() - t)} ms`);
  const answer = await pending;
  assert.equal(answer.status, 413, answer.body);
  // Before: the daemon waited for the whole declared body (the test's 10 s timeout fired).
  assert.ok(performance.now() - t0 < 8000, `answered after ${Math.round(performance.now() - t0)} ms`);
});

test('a body just under the limit is still read', async () => {
  const body = JSON.stringify({ Name: 'probe-vol', Labels: { pad: 'x'.repeat(3 << 20) } });
  const r = await d.request('POST', '/volumes/create', body, { 'Content-Type': 'application/json' });
  assert.equal(r.status, 201, r.body.toString());
});
