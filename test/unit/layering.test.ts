// Keeps ARCHITECTURE.md §2's rules of direction true: imports only go down the layers.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Folder → rank; a module may import only folders of strictly lower rank (or its own). */
const RANK: Record<string, number> = {
  cmd: 90,
  daemon: 80,
  api: 70,
  cri: 70, // the second front end beside api/: over the same services, wired in daemon/
  cli: 70,
  compose: 65,
  client: 60,
  containers: 50,
  images: 50,
  build: 50,
  registry: 50,
  runtime: 40,
  network: 40,
  volumes: 40,
  logs: 40,
  events: 40,
  content: 30,
  snapshots: 30,
  archive: 30,
  metadata: 30,
  oci: 20,
  pathsafe: 15,
  errdefs: 10,
  base: 10,
};
/**
 * Allowed exceptions to strict ranking. The builder runs RUN steps as containers and stores
 * each step as an image, so it sits on top of both services.
 */
const ALLOWED = new Set(['base->errdefs', 'containers->images', 'build->containers', 'build->images']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('imports only go down the layers', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = path.relative(SRC, file).split(path.sep)[0]!;
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/from '(\.[^']+)'/g)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), m[1]!)).split(path.sep)[0]!;
      if (target === from) continue;
      const rf = RANK[from];
      const rt = RANK[target];
      assert.ok(rf !== undefined, `unknown top-level folder src/${from}: add it to the layering table`);
      assert.ok(rt !== undefined, `unknown top-level folder src/${target}: add it to the layering table`);
      if (!(rt < rf) && !ALLOWED.has(`${from}->${target}`))
        violations.push(`${path.relative(SRC, file)} imports ${m[1]}`);
      if (
        ['snapshots', 'content', 'archive', 'metadata'].includes(from) &&
        ['images', 'containers', 'build', 'registry'].includes(target)
      ) {
        violations.push(`${path.relative(SRC, file)}: storage must not import services`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('version constant matches package.json', async () => {
  const { BERTH_VERSION } = await import('../../src/base/version.ts');
  const pkg = JSON.parse(readFileSync(path.resolve(SRC, '../package.json'), 'utf8'));
  assert.equal(BERTH_VERSION, pkg.version);
});
