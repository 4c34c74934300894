// Issue 14 probe: a small gzip of many global PAX headers with fresh keys. The tar reader kept
// every global record for the rest of the stream (and copied them into each later entry), so
// a few MB of upload made berthd hold hundreds of MB, without bound. Now globals have a total
// cap: the import and `docker cp` into a container are refused with a 400 naming it, berthd's
// memory stays flat, and /_ping answers meanwhile.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createGzip } from 'node:zlib';
import { type DaemonHolder, ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { globalPaxFlood } from '../helpers/hostile-tar.ts';

const daemon: DaemonHolder = useBusyboxDaemon();

const rssMb = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.d.pid}/status`, 'utf8'))?.[1]) / 1024;

/** Streams `body` to berthd, sampling its RSS meanwhile; resolves with the answer and peak RSS. */
function send(
  method: string,
  urlPath: string,
  body: Readable,
): Promise<{ status: number; message: string; peakMb: number }> {
  return new Promise((resolve, reject) => {
    let peakMb = rssMb();
    const sampler = setInterval(() => {
      peakMb = Math.max(peakMb, rssMb());
    }, 100);
    const req = http.request(
      {
        socketPath: daemon.d.socket,
        method,
        path: urlPath,
        headers: { 'Content-Type': 'application/x-tar' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearInterval(sampler);
          const text = Buffer.concat(chunks).toString();
          let message = text;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {}
          resolve({ status: res.statusCode ?? 0, message, peakMb: Math.max(peakMb, rssMb()) });
        });
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', (err) => {
      clearInterval(sampler);
      reject(err);
    });
    body.on('error', (err) => req.destroy(err));
    body.pipe(req);
  });
}

async function pingUnderASecond(): Promise<void> {
  const t = performance.now();
  const r = await daemon.d.request('GET', '/_ping');
  assert.equal(r.status, 200);
  assert.ok(performance.now() - t < 1000, '/_ping answers within a second');
}

// 256 globals of 1 MiB each: 256 MiB of records in a gzip of a few MiB.
const flood = (gzip: boolean) => {
  const raw = Readable.from(globalPaxFlood(256, 1 << 20));
  return gzip ? raw.pipe(createGzip({ level: 1 })) : raw;
};

test('docker import of a global-PAX flood is refused and memory stays flat', async () => {
  const before = rssMb();
  const pending = send('POST', '/images/create?fromSrc=-&repo=probe/paxflood', flood(true));
  await new Promise((r) => setTimeout(r, 200));
  await pingUnderASecond();
  const r = await pending;
  assert.equal(r.status, 400, r.message);
  assert.match(r.message, /global PAX headers hold more than/);
  assert.ok(r.peakMb - before < 150, `berthd grew by ${Math.round(r.peakMb - before)} MB`);
  const images = ok(await daemon.d.docker(['images', '--format', '{{.Repository}}']));
  assert.doesNotMatch(images, /paxflood/);
});

test('PUT /containers/{id}/archive of the same flood is refused; the container is untouched', async () => {
  const id = ok(await daemon.d.docker(['create', 'busybox', 'true'])).trim();
  const before = rssMb();
  const r = await send('PUT', `/containers/${id}/archive?path=/tmp`, flood(false));
  assert.equal(r.status, 400, r.message);
  assert.match(r.message, /global PAX headers hold more than/);
  assert.ok(r.peakMb - before < 150, `berthd grew by ${Math.round(r.peakMb - before)} MB`);
  await pingUnderASecond();
  const diff = ok(await daemon.d.docker(['diff', id]));
  assert.doesNotMatch(diff, /file/);
});

test('an archive with one ordinary global header (as git archive writes) still imports', async () => {
  const { paxRecords, rawEntry } = await import('../helpers/hostile-tar.ts');
  const tarball = Buffer.concat([
    rawEntry('pax_global_header', 'g', paxRecords([['comment', 'a'.repeat(40)]])),
    rawEntry('hello.txt', '0', Buffer.from('hi\n')),
    Buffer.alloc(1024),
  ]);
  const r = await send('POST', '/images/create?fromSrc=-&repo=probe/gitarchive', Readable.from([tarball]));
  assert.equal(r.status, 200, r.message);
  const out = ok(await daemon.d.docker(['create', 'probe/gitarchive', 'x']));
  assert.ok(out.trim().length > 0);
});
