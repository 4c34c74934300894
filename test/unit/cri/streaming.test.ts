// The streaming server's pieces that need no daemon: single-use expiring tokens (on a test
// clock), the remotecommand status JSON and resize stream, protocol negotiation, addresses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { CriError } from '../../../src/cri/errors.ts';
import { resizeDecoder, statusJson } from '../../../src/cri/streaming/remotecommand.ts';
import { parseStreamingAddress } from '../../../src/cri/streaming/address.ts';
import { MAX_IN_FLIGHT, RequestTokens, TOKEN_TTL_MS } from '../../../src/cri/streaming/tokens.ts';
import { negotiateProtocol, offeredProtocols } from '../../../src/cri/streaming/ws-channels.ts';

describe('request tokens', () => {
  test('a token gives its request once, URL-safe and distinct', () => {
    const t = new RequestTokens<string>();
    const a = t.insert('a');
    const b = t.insert('b');
    assert.match(a, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(a, b);
    assert.equal(t.consume(b), 'b');
    assert.equal(t.consume(b), undefined);
    assert.equal(t.consume(a), 'a');
    assert.equal(t.consume('made-up'), undefined);
  });

  test('a token expires after the TTL (one minute, as the kubelet)', () => {
    let now = 1_000_000;
    const t = new RequestTokens<string>({ now: () => now });
    const early = t.insert('early');
    const late = t.insert('late');
    now += TOKEN_TTL_MS;
    assert.equal(t.consume(late), 'late', 'still good at exactly the TTL');
    now += 1;
    assert.equal(t.consume(early), undefined, 'expired');
    assert.equal(t.size, 0, 'expired entries are collected');
  });

  test('at most MAX_IN_FLIGHT wait; expired ones make room', () => {
    let now = 0;
    const t = new RequestTokens<number>({ now: () => now });
    for (let i = 0; i < MAX_IN_FLIGHT; i++) t.insert(i);
    assert.throws(
      () => t.insert(-1),
      (e: unknown) => e instanceof CriError && e.grpcCode === status.RESOURCE_EXHAUSTED,
    );
    now += TOKEN_TTL_MS + 1;
    assert.ok(t.insert(-1));
    assert.equal(t.size, 1);
  });
});

describe('remotecommand status', () => {
  test('success, exit code and internal error as metav1.Status JSON', () => {
    assert.deepEqual(JSON.parse(statusJson({ kind: 'success' })), { metadata: {}, status: 'Success' });
    const exit = JSON.parse(statusJson({ kind: 'exit', code: 3, cmd: ['sh', '-c', 'exit 3'] }));
    assert.equal(exit.status, 'Failure');
    assert.equal(exit.reason, 'NonZeroExitCode');
    assert.deepEqual(exit.details.causes, [{ reason: 'ExitCode', message: '3' }]);
    assert.match(exit.message, /exit code 3$/);
    const err = JSON.parse(statusJson({ kind: 'error', message: 'boom' }));
    assert.equal(err.reason, 'InternalError');
    assert.equal(err.code, 500);
  });

  test('resize objects split across messages, concatenated, any letter case', () => {
    const got: { width: number; height: number }[] = [];
    const feed = resizeDecoder((s) => got.push(s));
    feed(Buffer.from('{"Width":80,'));
    feed(Buffer.from('"Height":24}{"width":100,"height":50}'));
    feed(Buffer.from('not json {"Width":"x"} {"Width":-1,"Height":2}{"Width":7,"Height":9}'));
    assert.deepEqual(got, [
      { width: 80, height: 24 },
      { width: 100, height: 50 },
      { width: 7, height: 9 },
    ]);
  });
});

describe('negotiation and addresses', () => {
  test('the first offered protocol the server serves wins; none offered means ""', () => {
    const served = ['v5.channel.k8s.io', 'v4.channel.k8s.io', ''];
    assert.equal(
      negotiateProtocol(['v3.channel.k8s.io', 'v4.channel.k8s.io', 'v5.channel.k8s.io'], served),
      'v4.channel.k8s.io',
    );
    assert.equal(negotiateProtocol([], served), '');
    assert.equal(negotiateProtocol(['v3.channel.k8s.io'], served), undefined);
    assert.deepEqual(offeredProtocols(' v5.channel.k8s.io, v4.channel.k8s.io ,'), [
      'v5.channel.k8s.io',
      'v4.channel.k8s.io',
    ]);
  });

  test('streaming addresses', () => {
    assert.deepEqual(parseStreamingAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseStreamingAddress('[::1]:10010'), { host: '::1', port: 10010 });
    assert.deepEqual(parseStreamingAddress('localhost:10010'), { host: 'localhost', port: 10010 });
    for (const bad of ['127.0.0.1', ':10010', '1.2.3.4:70000', 'a:b', '::1:5'])
      assert.throws(() => parseStreamingAddress(bad), /must be HOST:PORT/, bad);
  });
});
