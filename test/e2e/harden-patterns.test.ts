// Issue 14 §2: patterns users type must not freeze the daemon, and an invalid one is a 400 that
// names it. Each hostile request runs while a concurrent /_ping must answer within a second;
// if the daemon froze anyway (the bug), it is killed and restarted so later cases still run.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, test } from 'node:test';
import { type DaemonHolder, makeContext, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon: DaemonHolder = useBusyboxDaemon();
const dirs: string[] = [];
after(async () => {
  const { rm } = await import('node:fs/promises');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: string;
}

/** One request on the daemon's socket that gives up after `ms` (a frozen daemon never answers). */
function request(method: string, urlPath: string, ms: number): Promise<Reply | 'timeout'> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: daemon.d.socket, method, path: urlPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(ms, () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', reject);
    req.end();
  });
}

const q = (filters: unknown) => encodeURIComponent(JSON.stringify(filters));

/**
 * Runs `hostile` and, 150 ms into it, a /_ping that must answer within a second. A daemon that
 * froze is killed and restarted before the assertion fails, so the next case has a daemon.
 */
async function whileResponsive<T>(hostile: () => Promise<T>): Promise<T> {
  const work = hostile();
  // A daemon killed below fails the hostile request: that failure is the assertion's, not this.
  const settled = work.then(
    () => {},
    () => {},
  );
  await new Promise((r) => setTimeout(r, 150));
  const t0 = Date.now();
  const ping = await request('GET', '/_ping', 1000);
  const pingMs = Date.now() - t0;
  if (ping === 'timeout') {
    await daemon.d.kill9();
    await settled;
    daemon.d = await daemon.d.restart();
    assert.fail('the daemon stopped answering /_ping while the hostile request ran');
  }
  assert.equal(ping.status, 200);
  assert.ok(pingMs < 1000, `/_ping took ${pingMs} ms`);
  return work;
}

describe('user patterns do not freeze the daemon', () => {
  const longName = `${'a'.repeat(40)}b`;

  test('a catastrophic name regex against a long container name', async () => {
    ok(await daemon.d.docker(['create', '--name', longName, 'busybox', 'true']));
    const r = await whileResponsive(() =>
      request('GET', `/containers/json?all=1&filters=${q({ name: ['^(a|a)*$'] })}`, 10_000),
    );
    assert.notEqual(r, 'timeout');
    assert.equal((r as Reply).status, 200);
    assert.deepEqual(JSON.parse((r as Reply).body), []);
    // The same engine still matches what it should (Go regexp semantics, both name forms).
    const hit = await request('GET', `/containers/json?all=1&filters=${q({ name: ['^/?(a|a)*b$'] })}`, 5000);
    assert.notEqual(hit, 'timeout');
    assert.deepEqual(
      JSON.parse((hit as Reply).body).map((c: { Names: string[] }) => c.Names[0]),
      [`/${longName}`],
    );
  });

  test('a catastrophic image reference glob', async () => {
    ok(await daemon.d.docker(['tag', 'busybox', `${'a'.repeat(60)}:latest`]));
    const glob = `${'*a'.repeat(25)}*b`;
    const r = await whileResponsive(() =>
      request('GET', `/images/json?filters=${q({ reference: [glob] })}`, 10_000),
    );
    assert.notEqual(r, 'timeout');
    assert.equal((r as Reply).status, 200);
    assert.deepEqual(JSON.parse((r as Reply).body), []);
    const hit = ok(
      await daemon.d.docker([
        'images',
        '--format',
        '{{.Repository}}',
        '--filter',
        `reference=${'*a'.repeat(25)}*`,
      ]),
    );
    assert.equal(hit.trim(), 'a'.repeat(60));
  });

  test('a catastrophic --log-opt env-regex at start', async () => {
    const env = `${'A'.repeat(40)}B`;
    const name = 'envregex';
    ok(
      await daemon.d.docker([
        'create',
        '--name',
        name,
        '--log-opt',
        'env-regex=^(A|A)*$',
        '-e',
        `${env}=1`,
        'busybox',
        'true',
      ]),
    );
    const r = await whileResponsive(() => request('POST', `/containers/${name}/start`, 10_000));
    assert.notEqual(r, 'timeout');
    assert.equal((r as Reply).status, 204, (r as Reply).body);
  });

  test('a pathological .dockerignore line and COPY glob against long file names', async () => {
    const long = 'a'.repeat(200);
    const dir = await makeContext({
      Dockerfile: `FROM busybox\nCOPY ${'*a'.repeat(20)} /dst/\nRUN ls /dst\n`,
      '.dockerignore': `${'*a'.repeat(22)}*b\n`,
      [`${long}c`]: 'not copied: the COPY glob needs a trailing a\n',
      [long]: 'copied\n',
    });
    dirs.push(dir);
    const r = await whileResponsive(() =>
      daemon.d.docker(['build', '-q', '-t', 'patterns-build', dir], {
        env: { DOCKER_BUILDKIT: '0' },
        timeoutMs: 30_000,
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    const ls = ok(await daemon.d.docker(['run', '--rm', 'patterns-build', 'ls', '/dst']));
    assert.equal(ls.trim(), long);
  });
});

describe('invalid patterns are a 400 naming them', () => {
  test('name=( over the API and through the docker CLI', async () => {
    const r = await request('GET', `/containers/json?filters=${q({ name: ['('] })}`, 5000);
    assert.notEqual(r, 'timeout');
    assert.equal((r as Reply).status, 400);
    assert.match(JSON.parse((r as Reply).body).message, /name filter "\(".*missing closing \)/);
    const cli = await daemon.d.docker(['ps', '--filter', 'name=(']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /"\("/);
  });

  test('a malformed reference glob', async () => {
    const r = await request('GET', `/images/json?filters=${q({ reference: ['busy[box'] })}`, 5000);
    assert.notEqual(r, 'timeout');
    assert.equal((r as Reply).status, 400);
    assert.match(JSON.parse((r as Reply).body).message, /syntax error in pattern "busy\[box"/);
  });
});
