// The generated default seccomp profile against Docker's reference profile (../shared/reference).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_CAPABILITIES } from '../../../src/runtime/spec.ts';
import { defaultSeccomp, resolveSeccompProfile } from '../../../src/runtime/seccomp.ts';

const REF = path.resolve(import.meta.dirname, '../../../../shared/reference/docker-default-seccomp.json');

/** Names allowed unconditionally (no argument filter) by a resolved profile. */
function allowed(p: { syscalls: { names: string[]; action: string; args?: unknown[] }[] }): Set<string> {
  return new Set(p.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));
}

describe('default seccomp profile', () => {
  it('allows the same syscalls as Docker for the default capabilities, on every arch', {
    skip: !existsSync(REF),
  }, () => {
    const ref = JSON.parse(readFileSync(REF, 'utf8'));
    for (const arch of ['x64', 'arm64', 's390x']) {
      for (const caps of [
        [...DEFAULT_CAPABILITIES],
        [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'],
      ]) {
        const mine = defaultSeccomp(caps, arch);
        const theirs = resolveSeccompProfile(ref, caps, arch);
        assert.deepEqual(
          [...allowed(mine)].sort(),
          [...allowed(theirs)].sort(),
          `${arch} ${caps.length} caps`,
        );
        // Argument-filtered and errno rules are identical too (personality, socket, clone, clone3).
        const filtered = (p: typeof mine) =>
          p.syscalls
            .filter((s) => s.args || s.action !== 'SCMP_ACT_ALLOW')
            .map((s) => JSON.stringify(s))
            .sort();
        assert.deepEqual(filtered(mine), filtered(theirs));
        assert.equal(mine.defaultAction, theirs.defaultAction);
        assert.equal(mine.defaultErrnoRet, theirs.defaultErrnoRet);
      }
    }
    // Deliberate difference: none in the allowed sets. The one difference is `architectures`: Docker
    // lists subarchitectures from archMap; we list the native arch's (x86-64 + x86 + x32) likewise.
    assert.deepEqual(defaultSeccomp([], 'x64').architectures, [
      'SCMP_ARCH_X86_64',
      'SCMP_ARCH_X86',
      'SCMP_ARCH_X32',
    ]);
  });

  it('keeps namespaces and mounts for CAP_SYS_ADMIN only', () => {
    const plain = allowed(defaultSeccomp([...DEFAULT_CAPABILITIES], 'x64'));
    assert.ok(!plain.has('unshare') && !plain.has('mount') && !plain.has('setns') && !plain.has('keyctl'));
    assert.ok(plain.has('read') && plain.has('arch_prctl') && !plain.has('s390_runtime_instr'));
    const admin = allowed(defaultSeccomp([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], 'x64'));
    assert.ok(admin.has('unshare') && admin.has('mount') && admin.has('clone'));
    const clone3 = defaultSeccomp([...DEFAULT_CAPABILITIES], 'x64').syscalls.find((s) =>
      s.names.includes('clone3'),
    );
    assert.equal(clone3?.errnoRet, 38);
  });

  it('rejects a profile without defaultAction', () => {
    assert.throws(() => resolveSeccompProfile({ syscalls: [] }, []), /defaultAction/);
    assert.throws(() => resolveSeccompProfile([], []), /JSON object/);
  });
});
