// The one cgroup-path rule: which parents are accepted (and how they are spelt once accepted),
// where a record's cgroup is (old records: berthd's parent), and which parent directories a
// removal takes (only those berthd made, deepest first, only when empty), on a fake hierarchy root.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  checkCgroupParent,
  containerCgroupsPath,
  missingParentTop,
  missingParentTops,
  placeCgroup,
  removeMadeParents,
} from '../../../src/containers/cgroup-path.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'berth-cgpath-'));
after(() => rmSync(root, { recursive: true, force: true }));
for (const c of ['memory', 'cpu', 'pids']) mkdirSync(path.join(root, c));

describe('cgroup parents', () => {
  test('accepted parents are absolute and clean; hostile ones are refused naming the value', () => {
    assert.equal(checkCgroupParent('/jobs'), '/jobs');
    assert.equal(checkCgroupParent('system.slice/jobs/'), '/system.slice/jobs');
    assert.equal(checkCgroupParent('//a//b'), '/a/b');
    assert.equal(checkCgroupParent('user-1000.slice/a@b+c'), '/user-1000.slice/a@b+c');
    for (const [bad, why] of [
      ['..', '".." is not allowed'],
      ['/a/../../etc', '".." is not allowed'],
      ['./a', '"." is not allowed'],
      ['/', 'names the root cgroup'],
      ['a b', 'has characters other than'],
      ['a\nb', 'has characters other than'],
      ['a:b', 'has characters other than'],
      ['.hidden', 'has characters other than'],
      [`/${'x'.repeat(256)}`, 'longer than 255'],
      [`/${'x/'.repeat(600)}`, 'longer than 1024'],
    ] as const)
      assert.throws(
        () => checkCgroupParent(bad, 'cgroup-parent'),
        (e: Error) =>
          e.message.startsWith(`invalid cgroup-parent ${JSON.stringify(bad)}: `) && e.message.includes(why),
        bad,
      );
  });

  test('a record keeps its own parent; one from before the field gets berthd’s', () => {
    assert.equal(containerCgroupsPath({ id: 'c1', cgroupParent: '/jobs' }, '/berth'), '/jobs/c1');
    assert.equal(containerCgroupsPath({ id: 'c1' }, '/berth'), '/berth/c1');
  });

  test('placement: berthd’s parent is never "made"; a missing one is, from its topmost missing directory', async () => {
    assert.deepEqual(await placeCgroup(undefined, '/berth', [], 1), { cgroupParent: '/berth' });
    assert.deepEqual(await placeCgroup('', '/berth', [], 1), { cgroupParent: '/berth' });
    assert.deepEqual(await placeCgroup('/berth', '/berth', [], 1), { cgroupParent: '/berth' });
    await assert.rejects(placeCgroup(7, '/berth', [], 1), /must be a string/);
    mkdirSync(path.join(root, 'memory', 'have'));
    // Present in one hierarchy only: still missing where runc would make it.
    assert.equal(await missingParentTop(1, '/have/x', root), '/have');
    for (const c of ['cpu', 'pids']) mkdirSync(path.join(root, c, 'have'));
    assert.equal(await missingParentTop(1, '/have/x/y', root), '/have/x');
    assert.equal(await missingParentTop(1, '/have', root), undefined);
    // Inside a parent another record says berthd made: the new one inherits that top, in the
    // hierarchies it was made in (here /made exists by now: c0 started).
    for (const c of ['memory', 'cpu', 'pids']) mkdirSync(path.join(root, c, 'made'));
    const other = [
      {
        id: 'c0',
        cgroupParent: '/made/a',
        cgroupParentMade: '/made',
        cgroupParentMadeIn: { memory: '/made', cpu: '/made' },
      },
    ];
    assert.deepEqual(await placeCgroup('/made/b', '/berth', other, 1, root), {
      cgroupParent: '/made/b',
      cgroupParentMade: '/made',
      cgroupParentMadeIn: { memory: '/made', cpu: '/made', pids: '/made/b' },
    });
    // Inside another container's cgroup (its own parent's, or berthd's for an old record): refused.
    await assert.rejects(
      placeCgroup('/made/a/c0/x', '/berth', other, 1),
      /inside the cgroup of container c0/,
    );
    await assert.rejects(
      placeCgroup('/berth/c1', '/berth', [{ id: 'c1' }], 1),
      /inside the cgroup of container c1/,
    );
  });

  test('removal takes the made chain deepest first, stops at a non-empty one, keeps what it did not make', async () => {
    for (const c of ['memory', 'cpu', 'pids'])
      mkdirSync(path.join(root, c, 'have', 'm', 'n'), { recursive: true });
    mkdirSync(path.join(root, 'cpu', 'have', 'm', 'busy'));
    const all = { memory: '/have/m', cpu: '/have/m', pids: '/have/m' };
    await removeMadeParents(1, '/have/m/n', all, root);
    assert.equal(existsSync(path.join(root, 'memory', 'have', 'm')), false);
    assert.equal(existsSync(path.join(root, 'memory', 'have')), true, 'not made by berthd');
    assert.equal(existsSync(path.join(root, 'cpu', 'have', 'm', 'n')), false);
    assert.equal(existsSync(path.join(root, 'cpu', 'have', 'm')), true, 'another cgroup below keeps it');
    // A made top that is not an ancestor of the parent removes nothing.
    await removeMadeParents(1, '/have/m', { cpu: '/other' }, root);
    assert.equal(existsSync(path.join(root, 'cpu', 'have', 'm')), true);
    // A key that is no hierarchy (a tampered record) reaches nothing outside the root.
    const outside = mkdtempSync(path.join(os.tmpdir(), 'berth-cgpath-out-'));
    try {
      mkdirSync(path.join(outside, 'x'));
      await removeMadeParents(1, '/x', { [`../${path.basename(outside)}`]: '/x' }, root);
      assert.equal(existsSync(path.join(outside, 'x')), true);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('a parent missing in some hierarchies is removed only where berthd made it', async () => {
    // Like an empty system.slice that systemd keeps in its named hierarchy but no controller has.
    const r2 = mkdtempSync(path.join(os.tmpdir(), 'berth-cgpath-'));
    try {
      for (const c of ['memory', 'cpu', 'systemd']) mkdirSync(path.join(r2, c));
      mkdirSync(path.join(r2, 'systemd', 'sys.slice'));
      const placed = await placeCgroup('/sys.slice/jobs', '/berth', [], 1, r2);
      assert.deepEqual(placed, {
        cgroupParent: '/sys.slice/jobs',
        cgroupParentMade: '/sys.slice',
        cgroupParentMadeIn: { memory: '/sys.slice', cpu: '/sys.slice', systemd: '/sys.slice/jobs' },
      });
      assert.deepEqual(await missingParentTops(1, '/sys.slice', r2), {
        memory: '/sys.slice',
        cpu: '/sys.slice',
      });
      // What runc makes at start, in every hierarchy.
      for (const c of ['memory', 'cpu', 'systemd'])
        mkdirSync(path.join(r2, c, 'sys.slice', 'jobs'), { recursive: true });
      await removeMadeParents(1, placed.cgroupParent, placed.cgroupParentMadeIn!, r2);
      assert.equal(existsSync(path.join(r2, 'memory', 'sys.slice')), false);
      assert.equal(existsSync(path.join(r2, 'cpu', 'sys.slice')), false);
      assert.equal(existsSync(path.join(r2, 'systemd', 'sys.slice', 'jobs')), false);
      assert.equal(existsSync(path.join(r2, 'systemd', 'sys.slice')), true, 'not made by berthd there');
    } finally {
      rmSync(r2, { recursive: true, force: true });
    }
  });
});
