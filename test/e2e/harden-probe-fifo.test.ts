// Issue 14 probe: a container (or an image) can put a FIFO where berthd later reads a file,
// e.g. /etc/passwd and /etc/group, which the daemon reads to resolve `-u name` at exec and at
// start. A blocking open of a FIFO waits for a writer forever, inside one of libuv's four pool
// threads: four such requests and every file operation of the daemon stalled (pulls, creates,
// inspect of volumes...), with no way back but a restart. Opens inside a root are now
// non-blocking, so the request fails at once with a clear error and the daemon keeps working.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DaemonHolder, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon: DaemonHolder = useBusyboxDaemon();

/** An operation that needs libuv's pool (volume create writes files) answers within 3 s. */
async function fsStillWorks(name: string): Promise<void> {
  const t = performance.now();
  const r = await daemon.d.docker(['volume', 'create', name], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, `volume create: ${r.stderr}`);
  assert.ok(performance.now() - t < 3000, `volume create took ${Math.round(performance.now() - t)} ms`);
}

test('exec -u <name> in a container whose /etc/passwd is a FIFO: the daemon keeps working', async () => {
  const d = daemon.d;
  ok(
    await d.docker([
      'run',
      '-d',
      '--name',
      'fifo-exec',
      'busybox',
      'sh',
      '-c',
      'rm /etc/passwd /etc/group && mkfifo /etc/passwd /etc/group && touch /ready && sleep 120',
    ]),
  );
  const end = Date.now() + 10_000;
  while ((await d.docker(['exec', 'fifo-exec', 'test', '-e', '/ready'])).code !== 0 && Date.now() < end)
    await new Promise((r) => setTimeout(r, 100));
  // More at once than libuv has pool threads (4). (The exec itself then fails; that a failed
  // exec start can leave the docker CLI waiting is an exec-stream matter, so each is bounded.)
  const runs = await Promise.all(
    Array.from({ length: 6 }, () =>
      d.docker(['exec', '-u', 'nobody', 'fifo-exec', 'id'], { timeoutMs: 6_000 }),
    ),
  );
  for (const r of runs) assert.notEqual(r.code, 0, r.stdout);
  await fsStillWorks('probe-fifo-1');
});

test('run -u <name> of an image whose /etc/passwd is a FIFO fails fast; the daemon keeps working', async () => {
  const d = daemon.d;
  ok(
    await d.docker([
      'run',
      '--name',
      'fifo-img',
      'busybox',
      'sh',
      '-c',
      'rm /etc/passwd && mkfifo /etc/passwd',
    ]),
  );
  ok(await d.docker(['commit', 'fifo-img', 'probe/fifo-passwd']));
  const runs = await Promise.all(
    Array.from({ length: 5 }, () =>
      d.docker(['run', '--rm', '-u', 'nobody', 'probe/fifo-passwd', 'id'], { timeoutMs: 15_000 }),
    ),
  );
  for (const r of runs) {
    assert.notEqual(r.code, 128, 'the run was killed by the test timeout: it hung');
    assert.notEqual(r.code, 0, r.stdout);
  }
  await fsStillWorks('probe-fifo-2');
  const t = performance.now();
  assert.equal((await d.request('GET', '/_ping')).status, 200);
  assert.ok(performance.now() - t < 1000);
});
