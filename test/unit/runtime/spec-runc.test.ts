// The generated spec really runs under runc here: the process sees Docker's defaults
// (capabilities, masked paths, read-only /proc/sys, hostname, user) and its exit code comes back.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fsp, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { generateSpec } from '../../../src/runtime/index.ts';
import { busyboxTar } from '../../helpers/fixtures.ts';

let dir: string;
let runcRoot: string;
const cgroupParent = `berth-test-${process.pid}`;
const ids: string[] = [];
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'berth-spec-'));
  runcRoot = path.join(dir, 'runc');
  execFileSync('mkdir', ['-p', path.join(dir, 'rootfs')]);
  execFileSync('tar', ['-xf', busyboxTar(), '-C', path.join(dir, 'rootfs')]);
});
after(async () => {
  for (const id of ids) spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id]);
  // runc removes each container's cgroup; the parent this test named is ours to remove.
  for (const h of await fsp.readdir('/sys/fs/cgroup').catch(() => [])) {
    await fsp.rmdir(path.join('/sys/fs/cgroup', h, cgroupParent)).catch(() => {});
  }
  await fsp.rm(dir, { recursive: true, force: true });
});

function runIn(id: string, script: string, user = { uid: 0, gid: 0 }): { code: number; out: string } {
  const bundle = path.join(dir, id);
  execFileSync('mkdir', ['-p', bundle]);
  const spec = generateSpec({
    rootfs: path.join(dir, 'rootfs'),
    readonlyRootfs: true,
    args: ['sh', '-c', script],
    env: ['PATH=/bin:/usr/bin:/sbin:/usr/sbin'],
    cwd: '/',
    user,
    terminal: false,
    hostname: 'berth-spec',
    cgroupsPath: `/${cgroupParent}/${id}`,
  });
  writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  ids.push(id);
  const r = spawnSync('runc', ['--root', runcRoot, 'run', '--bundle', bundle, id], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

test('runs with docker defaults and returns the exit code', () => {
  const r = runIn(
    'defaults',
    'hostname; id -u; grep CapEff /proc/self/status; cat /proc/kcore | wc -c; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo ro; exit 7',
  );
  assert.equal(r.code, 7, r.out);
  const lines = r.out.trim().split('\n');
  assert.equal(lines[0], 'berth-spec');
  assert.equal(lines[1], '0');
  // Docker's default set is 0x00000000a80425fb.
  assert.match(lines[2]!, /CapEff:\s+00000000a80425fb/);
  assert.equal(lines[3]!.trim(), '0');
  assert.equal(lines[4], 'ro');
});

test('runs as another user', () => {
  const r = runIn('nobody', 'id -u; id -g', { uid: 65534, gid: 65534 });
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out.trim(), '65534\n65534');
});
