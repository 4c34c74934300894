// --gpus parsing as docker's CLI reads it, and MemorySwappiness planning on cgroup v1 and v2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGpus } from '../../src/cli/commands/run-host-fields.ts';
import { planResources } from '../../src/runtime/resources.ts';

test('--gpus: all, a count, and device= with a quoted list', () => {
  assert.equal(parseGpus('all').Count, -1);
  assert.equal(parseGpus('2').Count, 2);
  assert.deepEqual(parseGpus('"device=0,1"').DeviceIDs, ['0', '1']);
  assert.throws(() => parseGpus('bogus=1'), /unexpected key 'bogus'/);
});

const facts = (v: 1 | 2) => ({
  cgroupVersion: v,
  onlineCpus: new Set([0]),
  onlineMems: new Set([0]),
  hardLimits: {},
  swapLimit: true,
  swappiness: v === 1,
  blkioWeight: true,
  blkioThrottle: true,
  deviceNumber: () => undefined,
});

test('MemorySwappiness: set on v1, discarded with a warning on v2, range checked', () => {
  assert.equal(planResources({ MemorySwappiness: 10 }, facts(1)).resources.memory?.swappiness, 10);
  const v2 = planResources({ MemorySwappiness: 10 }, facts(2));
  assert.equal(v2.resources.memory, undefined);
  assert.match(v2.warnings.join(), /Memory swappiness discarded/);
  assert.throws(() => planResources({ MemorySwappiness: 101 }, facts(1)), /range is 0-100/);
});
