import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  capabilitySet,
  composeCommand,
  DEFAULT_CAPABILITIES,
  mergeEnv,
  resolveUser,
} from '../../../src/runtime/index.ts';

test('Cmd/Entrypoint composition follows docker', () => {
  assert.deepEqual(composeCommand({ imageCmd: ['sh'] }).args, ['sh']);
  assert.deepEqual(composeCommand({ imageCmd: ['sh'], cmd: ['echo', 'hi'] }).args, ['echo', 'hi']);
  assert.deepEqual(composeCommand({ imageEntrypoint: ['/init'], imageCmd: ['--serve'] }).args, [
    '/init',
    '--serve',
  ]);
  assert.deepEqual(composeCommand({ imageEntrypoint: ['/init'], imageCmd: ['--serve'], cmd: ['--x'] }).args, [
    '/init',
    '--x',
  ]);
  // overriding the entrypoint drops the image CMD
  assert.deepEqual(
    composeCommand({ imageEntrypoint: ['/init'], imageCmd: ['--serve'], entrypoint: ['/bin/sh'] }).args,
    ['/bin/sh'],
  );
  // --entrypoint "" resets it
  assert.deepEqual(
    composeCommand({ imageEntrypoint: ['/init'], imageCmd: ['x'], entrypoint: [''], cmd: ['ls'] }).args,
    ['ls'],
  );
  assert.throws(() => composeCommand({}), /no command specified/);
});

test('env merge overrides by key and keeps a PATH', () => {
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3']), ['PATH=/bin', 'A=2', 'B=3']);
  assert.equal(mergeEnv([], [])[0], 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
});

test('users: names, uids, groups, group-add', () => {
  const passwd =
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n';
  const group = 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nwheel:x:10:app\n';
  assert.deepEqual(resolveUser('', { passwd, group }), {
    uid: 0,
    gid: 0,
    additionalGids: [0],
    home: '/root',
  });
  assert.deepEqual(resolveUser('app', { passwd, group }), {
    uid: 1000,
    gid: 1000,
    additionalGids: [1000, 10],
    home: '/home/app',
  });
  assert.equal(resolveUser('1234', { passwd, group }).gid, 0);
  assert.deepEqual(resolveUser('nobody:wheel', { passwd, group }).gid, 10);
  assert.deepEqual(resolveUser('1000:65534', { passwd, group }).gid, 65534);
  assert.deepEqual(resolveUser('nobody', { passwd, group }, ['wheel', '42']).additionalGids, [65534, 10, 42]);
  assert.deepEqual(resolveUser('4242:4343', { passwd, group }).additionalGids, [4343]);
  assert.throws(() => resolveUser('ghost', { passwd, group }), /unable to find user ghost/);
  assert.throws(() => resolveUser('app:ghosts', { passwd, group }), /unable to find group ghosts/);
});

test('capabilities: add, drop, ALL', () => {
  assert.deepEqual(capabilitySet(), [...DEFAULT_CAPABILITIES]);
  assert.ok(capabilitySet(['NET_ADMIN']).includes('CAP_NET_ADMIN'));
  assert.ok(!capabilitySet([], ['chown']).includes('CAP_CHOWN'));
  assert.deepEqual(capabilitySet(['NET_BIND_SERVICE'], ['ALL']), ['CAP_NET_BIND_SERVICE']);
});
