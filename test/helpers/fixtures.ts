// Fixtures built at test time (never committed as binaries).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './daemon.ts';

const FIXTURES = path.join(ROOT, 'test/.fixtures');

/** The busybox rootfs tarball; built once per checkout by scripts/fixtures/busybox-rootfs.sh. */
export function busyboxTar(): string {
  const out = path.join(FIXTURES, 'busybox.tar');
  if (!existsSync(out)) {
    // The script writes a temp file and renames it, so parallel test files never see half a tarball.
    execFileSync('bash', [path.join(ROOT, 'scripts/fixtures/busybox-rootfs.sh'), out], { stdio: 'inherit' });
  }
  return out;
}
