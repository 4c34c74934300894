import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_KEYS } from '../../../src/daemon/config-keys.ts';
import { parseCommandLine, RELOADABLE_KEYS } from '../../../src/daemon/config.ts';
import { planReload } from '../../../src/daemon/reload.ts';

const parse = (file: Record<string, unknown>, argv: string[] = []) => {
  const p = parseCommandLine(argv, () => JSON.stringify(file));
  assert.equal(p.kind, 'run');
  if (p.kind !== 'run') throw new Error('unreachable');
  return p.config;
};

test('reloadable keys apply; the others wait for a restart', () => {
  const now = parse({ labels: ['a=1'], 'max-concurrent-downloads': 2 });
  const next = parse({
    labels: ['a=2'],
    debug: true,
    'max-concurrent-downloads': 7,
    'max-concurrent-uploads': 1,
    'registry-mirrors': ['http://m.local:5000'],
    'insecure-registries': ['m.local:5000'],
    bridge: 'br-other',
  });
  const plan = planReload(now, next);
  assert.deepEqual(plan.changed.labels, { from: ['a=1'], to: ['a=2'] });
  assert.deepEqual(plan.changed['log-level'], { from: 'info', to: 'debug' });
  assert.deepEqual(plan.changed.debug, { from: false, to: true });
  assert.equal(plan.next.maxConcurrentDownloads, 7);
  assert.equal(plan.next.maxConcurrentUploads, 1);
  assert.deepEqual(plan.next.registryMirrors, ['http://m.local:5000/']);
  assert.deepEqual(plan.next.insecureRegistries, ['m.local:5000']);
  assert.deepEqual(plan.needRestart, ['bridge']);
  assert.equal(Object.hasOwn(plan.changed, 'bridge'), false);
});

test('an unchanged file changes nothing', () => {
  const c = parse({ labels: ['a=1'], debug: true });
  const plan = planReload(c, parse({ labels: ['a=1'], debug: true }));
  assert.deepEqual(plan.changed, {});
  assert.deepEqual(plan.needRestart, []);
});

test("the reloadable keys are Docker's that Berth has", () => {
  assert.deepEqual([...RELOADABLE_KEYS].sort(), [
    'debug',
    'insecure-registries',
    'labels',
    'live-restore',
    'log-level',
    'max-concurrent-downloads',
    'max-concurrent-uploads',
    'registry-mirrors',
    'shutdown-timeout',
  ]);
});

test('every key in the table is accepted with a value of its type (honoured means parsed)', () => {
  const sample: Record<string, unknown> = {
    string: 'x',
    boolean: true,
    integer: 2,
    'string-list': [],
    object: {},
  };
  const values: Record<string, unknown> = {
    'log-level': 'warn',
    'storage-driver': 'overlay2',
    bip: '10.1.2.1/24',
    labels: ['k=v'],
    hosts: ['unix:///tmp/x.sock'],
    'cni-conf-dir': '/etc/cni/net.d',
    'cni-bin-dir': '/usr/lib/cni',
    'cri-streaming-address': '127.0.0.1:0',
  };
  for (const [key, k] of Object.entries(CONFIG_KEYS)) {
    const value = Object.hasOwn(values, key) ? values[key] : sample[k.type];
    assert.doesNotThrow(() => parse({ [key]: value }), key);
    assert.throws(() => parse({ [key]: k.type === 'string' ? 1 : 'x' }), /cannot unmarshal/, key);
  }
});
