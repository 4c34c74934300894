// schemas.gen.ts is what scripts/gen-api-schemas.ts makes of the spec today (skipped where the
// spec is not checked out next to the repository).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SPEC = path.join(ROOT, '../shared/reference/docker-engine-api-v1.43.yaml');

test('the generated schemas match the spec', {
  skip: !existsSync(SPEC) && 'no spec next to the repository',
}, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-schemas-'));
  try {
    const out = path.join(dir, 'schemas.gen.ts');
    execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts/gen-api-schemas.ts'), SPEC, out],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
    assert.equal(
      readFileSync(out, 'utf8'),
      readFileSync(path.join(ROOT, 'src/api/validate/schemas.gen.ts'), 'utf8'),
      'run: node --import tsx scripts/gen-api-schemas.ts',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
