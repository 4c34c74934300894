// Issue 14 §3 (filters): what Docker rejects is a 400 with Docker's message on every list and
// prune endpoint (unknown keys, values outside a key's set, malformed JSON), `before`/`since`
// naming a missing container is a 404, and both of Docker's filter JSON shapes work.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import Docker from 'dockerode';
import { type DaemonHolder, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon: DaemonHolder = useBusyboxDaemon();
const q = (filters: unknown) => encodeURIComponent(JSON.stringify(filters));

async function status(method: string, path: string): Promise<{ status: number; message: string }> {
  const r = await daemon.d.request(method, path);
  const text = r.body.toString();
  let message = '';
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? '';
  } catch {}
  return { status: r.status, message };
}

describe('filters Docker rejects', () => {
  test('docker CLI: bad filter values and keys exit non-zero with Docker message', async () => {
    const cases: [string[], string][] = [
      [['ps', '--filter', 'status=bogus'], "invalid filter 'status=bogus'"],
      [['ps', '--filter', 'exited=abc'], "invalid filter 'exited=abc'"],
      [['ps', '--filter', 'health=sick'], "invalid filter 'health=sick'"],
      [['ps', '--filter', 'is-task=maybe'], "invalid filter 'is-task=maybe'"],
      [['ps', '--filter', 'publish=99999'], "invalid filter 'publish=99999'"],
      [['ps', '--filter', 'bogus=1'], "invalid filter 'bogus'"],
      [['images', '--filter', 'dangling=maybe'], "invalid filter 'dangling=maybe'"],
      [['images', '--filter', 'until=yesterday'], "invalid filter 'until=yesterday'"],
      [['network', 'ls', '--filter', 'type=bogus'], "invalid filter 'type=bogus'"],
      [['network', 'ls', '--filter', 'dangling=maybe'], "invalid filter 'dangling=maybe'"],
      [['volume', 'ls', '--filter', 'dangling=maybe'], "invalid filter 'dangling=maybe'"],
      [['volume', 'ls', '--filter', 'bogus=1'], "invalid filter 'bogus'"],
      [['container', 'prune', '-f', '--filter', 'until=notatime'], "invalid filter 'until=notatime'"],
      [['network', 'prune', '-f', '--filter', 'until=notatime'], "invalid filter 'until=notatime'"],
      [['volume', 'prune', '-f', '--filter', 'all=maybe'], "invalid filter 'all=maybe'"],
    ];
    const failures: string[] = [];
    for (const [args, want] of cases) {
      const r = await daemon.d.docker(args);
      if (r.code === 0 || !r.stderr.includes(want))
        failures.push(`docker ${args.join(' ')}: exit ${r.code}, stderr ${JSON.stringify(r.stderr.trim())}`);
    }
    assert.deepEqual(failures, []);
  });

  test('before/since naming a missing container is a 404', async () => {
    const r = await daemon.d.docker(['ps', '-a', '--filter', 'before=no-such-container']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such container: no-such-container/);
    const s = await status('GET', `/containers/json?all=1&filters=${q({ since: ['no-such-container'] })}`);
    assert.equal(s.status, 404);
  });

  test('dockerode: 400s with the message, and the legacy filter shape still works', async () => {
    const docker = new Docker({ socketPath: daemon.d.socket });
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: 'filters-legacy' });
    const reject = async (p: Promise<unknown>, want: string) => {
      await assert.rejects(p, (err: { statusCode?: number; json?: { message?: string } }) => {
        assert.equal(err.statusCode, 400);
        assert.equal(err.json?.message, want);
        return true;
      });
    };
    await reject(
      docker.listContainers({ all: true, filters: { status: ['bogus'] } }),
      "invalid filter 'status=bogus'",
    );
    await reject(docker.listImages({ filters: { dangling: ['maybe'] } }), "invalid filter 'dangling=maybe'");
    await reject(docker.listNetworks({ filters: { scope: ['nowhere'] } }), "invalid filter 'scope=nowhere'");
    // Both shapes of Docker's filters JSON select the same container.
    const modern = await docker.listContainers({
      all: true,
      filters: { status: ['created'], name: ['filters-legacy'] },
    });
    const legacy = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ status: { created: true }, name: { 'filters-legacy': true } }),
    });
    assert.deepEqual(
      modern.map((x) => x.Id),
      [c.id],
    );
    assert.deepEqual(
      legacy.map((x) => x.Id),
      [c.id],
    );
    await c.remove({ force: true });
  });

  test('raw HTTP: malformed filters JSON and wrong value types are 400, never 500', async () => {
    const bad = [
      `/containers/json?filters=${encodeURIComponent('{')}`,
      `/containers/json?filters=${q([1])}`,
      `/containers/json?filters=${q({ name: [1] })}`,
      `/containers/json?filters=${q({ name: 'web' })}`,
      `/images/json?filters=${q({ reference: { busybox: 'yes' } })}`,
      `/volumes?filters=${q({ name: [null] })}`,
      `/networks?filters=${q({ name: [{}] })}`,
      `/containers/json?filters=${q({ id: Array.from({ length: 300 }, (_, i) => String(i)) })}`,
    ];
    for (const path of bad) {
      const r = await status('GET', path);
      assert.equal(r.status, 400, `${decodeURIComponent(path)}: ${r.status} ${r.message}`);
      assert.ok(r.message.startsWith('invalid filter'), r.message);
    }
    for (const [method, path, want] of [
      ['POST', `/build/prune?filters=${q({ bogus: ['1'] })}`, "invalid filter 'bogus'"],
      ['POST', `/images/prune?filters=${q({ dangling: ['maybe'] })}`, "invalid filter 'dangling=maybe'"],
      ['GET', `/events?since=1&until=2&filters=${q({ type: ['bogus'] })}`, "invalid filter 'type=bogus'"],
      ['GET', `/events?since=1&until=2&filters=${q({ bogus: ['x'] })}`, "invalid filter 'bogus'"],
    ] as const) {
      const r = await status(method, path);
      assert.equal(r.status, 400, `${method} ${decodeURIComponent(path)}: ${r.status}`);
      assert.equal(r.message, want);
    }
    // An empty or null filters value is no filter at all, as in Docker.
    assert.equal((await status('GET', `/containers/json?filters=${q(null)}`)).status, 200);
    assert.equal((await status('GET', `/containers/json?filters=${q({ status: [] })}`)).status, 200);
    ok(await daemon.d.docker(['ps', '-a']));
  });
});

test('an events stream with a far `until` stays open (no timer overflow)', async () => {
  const until = Math.floor(Date.now() / 1000) + 60 * 24 * 3600;
  const res = await new Promise<'open' | 'ended'>((resolve, reject) => {
    const req = http.request({ socketPath: daemon.d.socket, path: `/events?until=${until}` }, (r) => {
      r.resume();
      r.on('end', () => resolve('ended'));
      setTimeout(() => {
        resolve('open');
        req.destroy();
      }, 500);
    });
    req.on('error', () => {});
    req.on('close', () => resolve('ended'));
    req.end();
    setTimeout(() => reject(new Error('no answer')), 5000);
  });
  assert.equal(res, 'open');
});
