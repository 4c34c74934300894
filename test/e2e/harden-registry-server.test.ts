// Hardening of Berth's registry server itself (issue 14 §5), through HTTP on loopback:
// password guessing neither stalls the server nor goes unlimited, the catalog needs its scope,
// challenges parse under RFC 7235, a refused mount is a 202 upload, and `berth registry serve`
// leaves no server behind when it gets a signal or is killed.
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import {
  BERTH_BIN,
  basic,
  freePort,
  get,
  parseChallengeStrict,
  type ServedRegistry,
  serveRegistry,
  token,
  waitUp,
  writeHtpasswd,
} from '../helpers/berth-registry.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-hreg-'));
const servers: ServedRegistry[] = [];
let basicReg: ServedRegistry;
let tokenReg: ServedRegistry;

before(async () => {
  // Cost 10, as `htpasswd -B` writes by default: ~70 ms per check in bcryptjs.
  await writeHtpasswd(path.join(dir, 'basic.htpasswd'), { alice: 'right', carol: 'c-right' }, 10);
  await writeHtpasswd(path.join(dir, 'token.htpasswd'), { writer: 'pw', admin: 'pw', bob: 'pw' });
  await fsp.writeFile(path.join(dir, 'secret'), 'a-test-signing-key-of-enough-length');
  [basicReg, tokenReg] = await Promise.all([
    serveRegistry(path.join(dir, 'basic'), ['--htpasswd', path.join(dir, 'basic.htpasswd')]),
    serveRegistry(path.join(dir, 'token'), [
      '--htpasswd',
      path.join(dir, 'token.htpasswd'),
      '--token-secret',
      path.join(dir, 'secret'),
      '--acl',
      'writer:*:pull,push',
      '--acl',
      'bob:c/*:pull,push',
    ]),
  ]);
  servers.push(basicReg, tokenReg);
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('password checks', () => {
  test('40 concurrent wrong passwords: valid requests stay fast, guesses get 429 with Retry-After', async () => {
    const url = `http://${basicReg.host}/v2/`;
    // alice logs in once (her pair is then known); carol never has.
    assert.equal((await get(url, { auth: basic('alice', 'right') })).status, 200);
    const attack = Array.from({ length: 40 }, (_, i) =>
      get(url, { auth: basic(i % 2 ? 'alice' : 'carol', `wrong-${i}`), localAddress: '127.0.0.1' }),
    );
    await new Promise((r) => setTimeout(r, 30));
    const [known, fresh] = await Promise.all([
      get(url, { auth: basic('alice', 'right'), localAddress: '127.0.0.1' }),
      // carol from another address, while her name is being guessed from 127.0.0.1.
      get(url, { auth: basic('carol', 'c-right'), localAddress: '127.0.0.2' }),
    ]);
    const answers = await Promise.all(attack);
    assert.equal(known.status, 200);
    assert.ok(known.ms < 1000, `a known login took ${Math.round(known.ms)} ms during the attack`);
    assert.equal(fresh.status, 200, `carol from another address: ${fresh.status} ${fresh.body}`);
    assert.ok(fresh.ms < 5000, `carol's first login took ${Math.round(fresh.ms)} ms during the attack`);
    const statuses = answers.map((a) => a.status);
    assert.ok(
      statuses.every((s) => s === 401 || s === 429),
      `guesses got ${statuses.join(',')}`,
    );
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(limited.length >= 20, `only ${limited.length} of 40 guesses were limited`);
    for (const a of limited) {
      assert.match(String(a.headers['retry-after']), /^\d+$/);
      assert.equal((JSON.parse(a.body) as { errors: { code: string }[] }).errors[0]!.code, 'TOOMANYREQUESTS');
    }
    // The guessing address stays limited afterwards (each failure doubles its refill time).
    const follow: number[] = [];
    for (let i = 0; i < 3; i++)
      follow.push((await get(url, { auth: basic('alice', `again-${i}`), localAddress: '127.0.0.1' })).status);
    assert.ok(follow.includes(429), `follow-up guesses got ${follow.join(',')}`);
  });
});

describe('scopes and challenges', () => {
  test('the 401 challenge is RFC 7235 and names the scope; insufficient scope too', async () => {
    const anon = await get(`http://${tokenReg.host}/v2/team/app/manifests/1`);
    assert.equal(anon.status, 401);
    const c = parseChallengeStrict(String(anon.headers['www-authenticate']));
    assert.equal(c.scheme, 'Bearer');
    assert.deepEqual(c.params, {
      realm: `http://${tokenReg.host}/token`,
      service: tokenReg.host,
      scope: 'repository:team/app:pull',
    });
    const t = await token(tokenReg.host, 'bob', 'pw', ['repository:c/x:pull,push']);
    const push = await get(`http://${tokenReg.host}/v2/team/app/blobs/uploads/`, {
      method: 'POST',
      auth: `Bearer ${t}`,
    });
    assert.equal(push.status, 401);
    const ic = parseChallengeStrict(String(push.headers['www-authenticate']));
    assert.equal(ic.params.scope, 'repository:team/app:pull,push');
    assert.equal(ic.params.error, 'insufficient_scope');
    const b = await get(`http://${basicReg.host}/v2/`);
    assert.deepEqual(parseChallengeStrict(String(b.headers['www-authenticate'])), {
      scheme: 'Basic',
      params: { realm: 'berth-registry' },
    });
  });

  test('the catalog (and v1 search) need registry:catalog:*', async () => {
    const h = tokenReg.host;
    const scope = 'registry:catalog:*';
    const writer = await token(h, 'writer', 'pw', [scope, 'repository:team/app:pull']);
    const refused = await get(`http://${h}/v2/_catalog`, { auth: `Bearer ${writer}` });
    assert.equal(refused.status, 401, refused.body);
    const c = parseChallengeStrict(String(refused.headers['www-authenticate']));
    assert.equal(c.params.scope, scope);
    assert.equal((await get(`http://${h}/v1/search?q=a`, { auth: `Bearer ${writer}` })).status, 401);
    // A registry whose ACL grants the catalog to admin.
    const withCatalog = await serveRegistry(path.join(dir, 'catalog'), [
      '--htpasswd',
      path.join(dir, 'token.htpasswd'),
      '--token-secret',
      path.join(dir, 'secret'),
      '--acl',
      'writer:*:pull,push',
      '--acl',
      'admin:*:catalog',
    ]);
    servers.push(withCatalog);
    const admin = await token(withCatalog.host, 'admin', 'pw', [scope]);
    const listed = await get(`http://${withCatalog.host}/v2/_catalog`, { auth: `Bearer ${admin}` });
    assert.equal(listed.status, 200, listed.body);
    assert.deepEqual(JSON.parse(listed.body), { repositories: [] });
    // Basic mode has one level of trust (docs/registry.md): any user may list.
    assert.equal(
      (await get(`http://${basicReg.host}/v2/_catalog`, { auth: basic('alice', 'right') })).status,
      200,
    );
  });

  test('a mount the token does not cover falls through to a 202 upload', async () => {
    const h = tokenReg.host;
    const w = await token(h, 'writer', 'pw', ['repository:team/app:pull,push']);
    const blob = Buffer.from('a shared layer');
    const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(blob).digest('hex')}`;
    const put = await fetch(`http://${h}/v2/team/app/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${w}`, 'Content-Type': 'application/octet-stream' },
      body: blob,
    });
    assert.equal(put.status, 201);
    const b = await token(h, 'bob', 'pw', ['repository:c/x:pull,push', 'repository:team/app:pull']);
    const mount = await get(`http://${h}/v2/c/x/blobs/uploads/?mount=${digest}&from=team/app`, {
      method: 'POST',
      auth: `Bearer ${b}`,
    });
    assert.equal(mount.status, 202, mount.body);
    assert.match(String(mount.headers.location), /^\/v2\/c\/x\/blobs\/uploads\/[^/]+$/);
    // The blob did not become readable in c/x through the refused mount.
    assert.equal(
      (await get(`http://${h}/v2/c/x/blobs/${digest}`, { method: 'HEAD', auth: `Bearer ${b}` })).status,
      404,
    );
    // With pull on the source the same request mounts.
    const w2 = await token(h, 'writer', 'pw', [
      'repository:team/other:pull,push',
      'repository:team/app:pull',
    ]);
    const ok = await get(`http://${h}/v2/team/other/blobs/uploads/?mount=${digest}&from=team/app`, {
      method: 'POST',
      auth: `Bearer ${w2}`,
    });
    assert.equal(ok.status, 201);
  });
});

/** The PIDs of `pid`'s children (from /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    // A zombie still answers kill(0): look at its state too.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

describe('berth registry serve', () => {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGKILL'] as const) {
    test(`${sig} to berth registry serve leaves no server behind`, async () => {
      const port = await freePort();
      const host = `127.0.0.1:${port}`;
      const cli = spawn(
        BERTH_BIN,
        ['registry', 'serve', '--root', path.join(dir, `sig-${sig}`), '--addr', host],
        {
          stdio: 'ignore',
        },
      );
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
        cli.once('exit', (code, signal) => r({ code, signal })),
      );
      let server: number | undefined;
      try {
        await waitUp(host, cli);
        server = childrenOf(cli.pid!)[0];
        assert.ok(server, 'the CLI runs the server as its child');
        cli.kill(sig);
        const r = await Promise.race([
          exited,
          new Promise<undefined>((res) => setTimeout(() => res(undefined), 8000)),
        ]);
        assert.ok(r, `berth registry serve did not exit after ${sig}`);
        if (sig !== 'SIGKILL') assert.ok(r.code === 0 || r.signal === sig, `exit ${JSON.stringify(r)}`);
        assert.ok(await gone(server, 8000), `the server (PID ${server}) outlived the CLI after ${sig}`);
        const still = await fetch(`http://${host}/v2/`).then(
          () => true,
          () => false,
        );
        assert.equal(still, false, 'nothing answers on the port any more');
      } finally {
        if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
        if (server && alive(server)) process.kill(server, 'SIGKILL');
      }
    });
  }
});
