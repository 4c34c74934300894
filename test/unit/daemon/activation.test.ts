import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activationListeners, takeActivationFds } from '../../../src/daemon/activation.ts';
import { parseHost } from '../../../src/daemon/config.ts';

test('LISTEN_FDS counts fds from 3, only when LISTEN_PID is ours; the variables are removed', () => {
  const env: NodeJS.ProcessEnv = { LISTEN_FDS: '2', LISTEN_PID: '42', LISTEN_FDNAMES: 'a:b', KEEP: '1' };
  assert.deepEqual(takeActivationFds(env, 42), [3, 4]);
  assert.deepEqual(env, { KEEP: '1' });
  assert.deepEqual(takeActivationFds({ LISTEN_FDS: '1', LISTEN_PID: '41' }, 42), []);
  assert.deepEqual(takeActivationFds({ LISTEN_FDS: 'x', LISTEN_PID: '42' }, 42), []);
  assert.deepEqual(takeActivationFds({}, 42), []);
});

test('fd:// takes every handed fd, fd://N one of them; none handed is a clear error', () => {
  assert.deepEqual(activationListeners('fd://', [3, 4]), [3, 4]);
  assert.deepEqual(activationListeners('fd://4', [3, 4]), [4]);
  assert.throws(() => activationListeners('fd://5', [3, 4]), /names fd 5, but berthd was handed 3, 4/);
  assert.throws(() => activationListeners('fd://', []), /no sockets found via socket activation/);
  assert.deepEqual(parseHost('fd://', { tls: false, tlsVerify: false }), { kind: 'fd', spec: 'fd://' });
  assert.throws(() => parseHost('fd://three', { tls: false, tlsVerify: false }), /use fd:\/\/ or fd:\/\/N/);
});
