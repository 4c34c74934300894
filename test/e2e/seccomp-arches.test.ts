// The default seccomp profile leaves out the architectures the kernel does not serve (x32 on
// most x86_64 kernels): their rules cost runc a large share of each create and exec
// (scripts/bench-spec-cost.ts). Checked through the spec berthd writes and a run and exec.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { withoutArches } from '../../src/runtime/index.ts';
import { ROOT } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const PROBE = path.join(ROOT, 'dist/berth-x32-probe');

test('withoutArches drops only what is named and never empties the list', () => {
  const p = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [],
  };
  assert.deepEqual(withoutArches(p, ['SCMP_ARCH_X32']).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  assert.deepEqual(withoutArches(p, []).architectures, p.architectures);
  const one = { ...p, architectures: ['SCMP_ARCH_X32'] };
  assert.deepEqual(withoutArches(one, ['SCMP_ARCH_X32']).architectures, ['SCMP_ARCH_X32']);
});

test('the spec lists x32 exactly when the kernel serves it; run and exec work either way', {
  skip: process.arch !== 'x64' ? 'x32 is an x86_64 ABI' : false,
}, async () => {
  const served = spawnSync(PROBE, [], { stdio: 'ignore' }).status;
  assert.ok(served === 0 || served === 1, `berth-x32-probe answered ${served}`);
  const id = ok(await daemon.d.docker(['run', '-d', '--network', 'none', 'busybox', 'sleep', '60'])).trim();
  try {
    const spec = JSON.parse(
      await fsp.readFile(path.join(daemon.d.dataRoot, 'containers', id, 'config.json'), 'utf8'),
    ) as { linux: { seccomp: { architectures: string[] } } };
    const arches = spec.linux.seccomp.architectures;
    assert.ok(arches.includes('SCMP_ARCH_X86_64') && arches.includes('SCMP_ARCH_X86'), arches.join());
    assert.equal(arches.includes('SCMP_ARCH_X32'), served === 0, arches.join());
    assert.equal(ok(await daemon.d.docker(['exec', id, 'echo', 'in'])), 'in\n');
    // A custom profile is the user's: its architectures are kept as given.
    const profile = path.join(daemon.d.dir, 'x32-profile.json');
    await fsp.writeFile(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
        syscalls: [],
      }),
    );
    const custom = ok(
      await daemon.d.docker(['create', '--security-opt', `seccomp=${profile}`, 'busybox', 'true']),
    ).trim();
    assert.equal((await daemon.d.docker(['start', '-a', custom])).code, 0);
    const cspec = JSON.parse(
      await fsp.readFile(path.join(daemon.d.dataRoot, 'containers', custom, 'config.json'), 'utf8'),
    ) as { linux: { seccomp: { architectures: string[] } } };
    assert.deepEqual(cspec.linux.seccomp.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32']);
    await daemon.d.docker(['rm', '-f', custom]);
  } finally {
    await daemon.d.docker(['rm', '-f', id]);
  }
});
