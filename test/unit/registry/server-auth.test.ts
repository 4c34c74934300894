// The registry server's auth pieces without a server: the login limiter (token buckets with
// back-off, trusted addresses), the password checker (cache, limiter, bcrypt on a worker),
// challenge formatting, scopes and ACL rules.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { parseChallenges } from '../../../src/registry/client/auth.ts';
import { formatChallenge, scopeOf } from '../../../src/registry/server/access.ts';
import { parseAcl } from '../../../src/registry/server/auth.ts';
import { BcryptPool } from '../../../src/registry/server/bcrypt-pool.ts';
import { Htpasswd } from '../../../src/registry/server/credentials.ts';
import { AuthLimiter, BucketMap } from '../../../src/registry/server/limiter.ts';
import { parseChallengeStrict } from '../../helpers/berth-registry.ts';

describe('BucketMap', () => {
  const policy = { capacity: 3, intervalMs: 1000, maxIntervalMs: 8000 };
  it('grants a burst, then one token per interval', () => {
    const b = new BucketMap(policy);
    assert.deepEqual(
      [0, 0, 0].map(() => b.take('k', 0)),
      [0, 0, 0],
    );
    assert.equal(b.take('k', 0), 1000);
    assert.equal(b.take('k', 999), 1);
    assert.equal(b.take('k', 1000), 0);
  });
  it('backs off exponentially after failures beyond the burst, capped', () => {
    const b = new BucketMap(policy);
    for (let i = 0; i < 3; i++) b.take('k', 0);
    for (let i = 0; i < 5; i++) b.fail('k', 0);
    // 2 failures beyond capacity: interval 4 s.
    assert.equal(b.take('k', 0), 4000);
    for (let i = 0; i < 20; i++) b.fail('k', 0);
    assert.equal(b.take('k', 0), 8000, 'never longer than maxIntervalMs');
    assert.equal(b.take('k', 8000), 0, 'a token is back after the capped interval');
  });
  it('keeps at most maxKeys buckets', () => {
    const b = new BucketMap(policy, 100);
    for (let i = 0; i < 1000; i++) b.take(`k${i}`, 0);
    assert.equal(b.size, 100);
  });
});

describe('AuthLimiter', () => {
  it('counts checks in flight, so a concurrent burst is cut at the bucket size', () => {
    const l = new AuthLimiter({ now: () => 0 });
    const admitted = Array.from({ length: 40 }, () => l.admit('alice', '10.0.0.1', true)).filter((a) => a.ok);
    assert.equal(admitted.length, 10);
  });
  it('an attacker elsewhere does not lock a user out of an address that logged in before', () => {
    let now = 0;
    const l = new AuthLimiter({ now: () => now });
    const first = l.admit('alice', '10.0.0.2', true);
    assert.ok(first.ok);
    first.done('success');
    // Many attacker addresses exhaust alice's user bucket.
    for (let i = 0; i < 100; i++) {
      const a = l.admit('alice', `10.1.0.${i}`, true);
      if (a.ok) a.done('failure');
    }
    const stranger = l.admit('alice', '10.9.9.9', true);
    assert.equal(stranger.ok, false, 'a new address waits for the user bucket');
    if (!stranger.ok) assert.ok(stranger.retryAfterMs <= 30_000, 'bounded wait');
    const home = l.admit('alice', '10.0.0.2', true);
    assert.ok(home.ok, 'the address that logged in before is not charged the user bucket');
    assert.ok(home.ok && home.trusted);
    now += 30_000;
    assert.ok(l.admit('alice', '10.9.9.9', true).ok, 'and the lock-out ends');
  });
  it('success refunds; cancelled checks cost nothing and trust nothing', () => {
    const l = new AuthLimiter({ now: () => 0 });
    for (let i = 0; i < 50; i++) {
      const a = l.admit('bob', '10.0.0.3', true);
      assert.ok(a.ok);
      a.done(i % 2 ? 'success' : 'cancelled');
    }
    const a = l.admit('bob', '10.0.0.4', true);
    assert.ok(a.ok && !a.trusted);
  });
  it('unknown users cost their address only', () => {
    const l = new AuthLimiter({ now: () => 0 });
    for (let i = 0; i < 10; i++) {
      const a = l.admit(`nobody${i}`, '10.0.0.5', false);
      assert.ok(a.ok);
      a.done('failure');
    }
    assert.equal(l.admit('x', '10.0.0.5', false).ok, false);
    assert.ok(l.admit('x', '10.0.0.6', false).ok);
  });
});

describe('Htpasswd.check', () => {
  const pool = new BcryptPool({ size: 1 });
  after(() => pool.close());
  const text = `alice:${bcrypt.hashSync('right', 4)}\n`;
  it('verifies on the worker, caches the verified pair, refuses wrong passwords', async () => {
    const h = new Htpasswd(text, { pool });
    assert.deepEqual(await h.check('alice', 'right', '10.0.0.1'), { ok: true });
    assert.deepEqual(await h.check('alice', 'wrong', '10.0.0.1'), { ok: false });
    assert.deepEqual(await h.check('nobody', 'x', '10.0.0.1'), { ok: false });
  });
  it('limits guesses with a retry time, but not a verified pair', async () => {
    const h = new Htpasswd(text, { pool });
    assert.ok((await h.check('alice', 'right', '10.0.0.7')).ok);
    const answers = await Promise.all(
      Array.from({ length: 15 }, (_, i) => h.check('alice', `w${i}`, '10.0.0.7')),
    );
    const limited = answers.filter((a) => !a.ok && a.retryAfterSeconds !== undefined);
    assert.equal(limited.length, 5);
    assert.ok((await h.check('alice', 'right', '10.0.0.7')).ok, 'the verified pair is not limited');
  });
  it('serves clients round-robin: one burst does not hold back another client', async () => {
    const hash = bcrypt.hashSync('x', 4);
    const order: string[] = [];
    const run = (client: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        pool.compare('y', hash, { client }).then(() => order.push(`${client}${i}`)),
      );
    await Promise.all([...run('a', 6), ...run('b', 1)]);
    assert.ok(order.indexOf('b0') <= 2, `order: ${order.join(' ')}`);
  });
  it('refuses non-bcrypt entries', () => {
    assert.throws(() => new Htpasswd('bob:{SHA}abc\n'), /not bcrypt/);
  });
});

describe('challenges, scopes and ACL rules', () => {
  it('formats RFC 7235 challenges that strict and lenient parsers read alike', () => {
    const params: [string, string][] = [
      ['realm', 'http://127.0.0.1:5000/token'],
      ['service', '127.0.0.1:5000'],
      ['scope', 'repository:team/app:pull,push'],
      ['error', 'insufficient_scope'],
    ];
    const h = formatChallenge('Bearer', params);
    assert.deepEqual(parseChallengeStrict(h), { scheme: 'Bearer', params: Object.fromEntries(params) });
    assert.deepEqual(parseChallenges(h), [{ scheme: 'bearer', params: Object.fromEntries(params) }]);
    const odd = formatChallenge('Basic', [['realm', 'a "quoted" \\ realm']]);
    assert.equal(parseChallengeStrict(odd).params.realm, 'a "quoted" \\ realm');
  });
  it('names the scope a request needs', () => {
    assert.equal(scopeOf({ repository: 'a/b', action: 'pull' }), 'repository:a/b:pull');
    assert.equal(scopeOf({ repository: 'a/b', action: 'push' }), 'repository:a/b:pull,push');
    assert.equal(scopeOf({ catalog: true }), 'registry:catalog:*');
    assert.equal(scopeOf(undefined), undefined);
  });
  it('parses ACL rules; catalog only for every repository', () => {
    assert.deepEqual(parseAcl(['admin:*:catalog,pull']), [
      { user: 'admin', repository: '*', actions: ['catalog', 'pull'] },
    ]);
    assert.throws(() => parseAcl(['admin:team/*:catalog']), /admin:\*:catalog/);
    assert.throws(() => parseAcl(['admin:*:fly']), /bad action "fly"/);
  });
});
