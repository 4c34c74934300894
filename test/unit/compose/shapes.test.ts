// Short syntax → long syntax (ports, volumes, depends_on, lists → maps) and shell words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalService,
  parsePortShort,
  parseVolumeShort,
  shellSplit,
} from '../../../src/compose/index.ts';

test('ports: short forms, ranges, host IPs, protocols', () => {
  assert.deepEqual(parsePortShort(80), [{ mode: 'ingress', target: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePortShort('127.0.0.1:8080:80/udp'), [
    { mode: 'ingress', target: 80, protocol: 'udp', published: '8080', host_ip: '127.0.0.1' },
  ]);
  assert.deepEqual(
    parsePortShort('9000-9001:90-91').map((p) => `${p.published}->${p.target}`),
    ['9000->90', '9001->91'],
  );
  assert.deepEqual(parsePortShort('[::1]:53:53')[0]?.host_ip, '::1');
  assert.deepEqual(parsePortShort('::1:53:53')[0]?.host_ip, '::1');
  assert.throws(() => parsePortShort('80:http'), /not a port number/);
  assert.throws(() => parsePortShort('80/icmp'), /unknown protocol/);
  assert.throws(() => parsePortShort('1-3:1-2'), /differ in size/);
});

test('volumes: bind vs named, modes', () => {
  assert.deepEqual(parseVolumeShort('./site:/srv:ro'), {
    type: 'bind',
    source: './site',
    target: '/srv',
    read_only: true,
    bind: { create_host_path: true },
  });
  assert.deepEqual(parseVolumeShort('data:/data'), {
    type: 'volume',
    source: 'data',
    target: '/data',
    volume: {},
  });
  assert.deepEqual(parseVolumeShort('/anon'), { type: 'volume', target: '/anon', volume: {} });
  assert.throws(() => parseVolumeShort('a:/b:bogus'), /unknown mode "bogus"/);
});

test('depends_on, networks and environment lists become maps', () => {
  const s = canonicalService('w', {
    depends_on: ['db'],
    networks: ['front'],
    environment: ['A=1', 'B', 'C=x=y'],
    labels: { n: 1 },
  });
  assert.deepEqual(s, {
    depends_on: { db: { condition: 'service_started', required: true } },
    networks: { front: null },
    environment: { A: '1', B: null, C: 'x=y' },
    labels: { n: '1' },
  });
});

test('shell words', () => {
  assert.deepEqual(shellSplit(`sh -c 'echo "a b"' "x\\"y" z\\ w`), ['sh', '-c', 'echo "a b"', 'x"y', 'z w']);
  assert.deepEqual(shellSplit('  '), []);
  assert.throws(() => shellSplit("echo 'open"), /unterminated/);
});
