// generateSpec's security inputs: privileged, seccomp choice, devices, namespaces, sysctls.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSpec, type SpecInput } from '../../../src/runtime/index.ts';

const base: SpecInput = {
  rootfs: '/r',
  args: ['sh'],
  env: [],
  cwd: '/',
  user: { uid: 0, gid: 0 },
  terminal: false,
  hostname: 'h',
  cgroupsPath: 'berth/x',
  allCaps: ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_KILL'],
};

describe('generateSpec security', () => {
  it('applies the default seccomp profile, masked paths and a read-only /sys by default', () => {
    const s = generateSpec(base);
    assert.equal((s.linux.seccomp as { defaultAction: string }).defaultAction, 'SCMP_ACT_ERRNO');
    assert.ok(s.linux.maskedPaths.includes('/proc/kcore'));
    assert.ok(s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
  });

  it('privileged: the bounding set, every device, no seccomp, nothing masked, rw /sys', () => {
    const s = generateSpec({
      ...base,
      privileged: true,
      devices: [{ path: '/dev/loop0', type: 'b', major: 7, minor: 0 }],
    });
    assert.deepEqual(s.process.capabilities.bounding, ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_KILL']);
    assert.equal(s.linux.seccomp, undefined);
    assert.deepEqual(s.linux.maskedPaths, []);
    assert.deepEqual(s.linux.readonlyPaths, []);
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    assert.equal(s.linux.devices?.[0]?.path, '/dev/loop0');
    assert.ok(!s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
    assert.ok(!s.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options?.includes('ro'));
  });

  it('never grants a capability outside the bounding set', () => {
    const s = generateSpec({ ...base, capAdd: ['SYS_RESOURCE', 'SYS_ADMIN'] });
    assert.ok(!s.process.capabilities.bounding.includes('CAP_SYS_RESOURCE'));
    assert.ok(s.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
  });

  it('unconfined and custom seccomp; namespaces joined or shared; sysctls', () => {
    assert.equal(generateSpec({ ...base, seccomp: 'unconfined' }).linux.seccomp, undefined);
    const custom = generateSpec({
      ...base,
      seccomp: {
        custom: {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
        },
      },
    });
    assert.deepEqual(custom.linux.seccomp, {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    });
    const s = generateSpec({
      ...base,
      namespaces: { pid: 'host', ipc: '/proc/42/ns/ipc', uts: 'host' },
      sysctl: { 'net.ipv4.ip_forward': '1' },
    });
    const types = s.linux.namespaces.map((n) => `${n.type}${n.path ? `=${n.path}` : ''}`);
    assert.deepEqual(types, ['network', 'ipc=/proc/42/ns/ipc', 'mount']);
    assert.equal(s.hostname, undefined);
    assert.deepEqual(s.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
  });
});
