// The Upgrade: tcp hijack with the request body in later packets than the headers: docker CLI
// requests sometimes arrive that way under load, and the exec used to hang forever then.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
  assert.equal((await d.berth(['import', busyboxTar(), 'busybox'])).code, 0);
  assert.equal((await d.berth(['run', '-d', '--name', 'hj', 'busybox', 'sleep', '300'])).code, 0);
});
after(async () => {
  await d?.berth(['rm', '-f', 'hj']);
  await d?.cleanup();
});

/** Sends an upgrade request whose body follows the headers in two delayed writes. */
function splitUpgrade(path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(d.socket);
    let got = '';
    c.on('data', (b: Buffer) => {
      got += b.toString('latin1');
    });
    c.on('end', () => resolve(got));
    c.on('error', reject);
    c.write(
      `POST ${path} HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    setTimeout(() => c.write(body.slice(0, 5)), 30);
    setTimeout(() => c.write(body.slice(5)), 60);
    setTimeout(() => {
      c.destroy();
      resolve(`TIMED OUT after: ${got}`);
    }, 10_000).unref();
  });
}

test('exec start answers when its JSON body arrives after the headers, in pieces', async () => {
  const created = await d.request(
    'POST',
    '/containers/hj/exec',
    JSON.stringify({ Cmd: ['echo', 'split-body'], AttachStdout: true, AttachStderr: true }),
    { 'Content-Type': 'application/json' },
  );
  assert.equal(created.status, 201, created.body.toString());
  const id = (JSON.parse(created.body.toString()) as { Id: string }).Id;
  const out = await splitUpgrade(`/exec/${id}/start`, JSON.stringify({ Detach: false, Tty: false }));
  assert.match(out, /^HTTP\/1\.1 101/);
  assert.match(out, /split-body\n/);
});

test('attach answers too when its (empty JSON) body arrives late', async () => {
  const out = await splitUpgrade('/containers/hj/attach?stream=0&logs=1&stdout=1', '{"padding":true}');
  assert.match(out, /^HTTP\/1\.1 101/);
});
