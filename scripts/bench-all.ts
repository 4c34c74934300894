// `npm run bench`: every bench group in order, each in its own node process as when run alone
// (`npm run bench:<name>`), stopping at the first that fails. Builds once first (unless given
// --no-build) and passes --no-build to the groups that would otherwise build again.
//   node --import tsx scripts/bench-all.ts [--no-build] [group…]   (no group: all of them)
// A new bench group is one line in GROUPS, not another `&&` in package.json.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

interface Group {
  readonly name: string;
  readonly script: string;
  /** The script builds by itself unless told --no-build (others take no flags). */
  readonly builds: boolean;
}

const GROUPS: readonly Group[] = [
  { name: 'cli', script: 'bench.ts', builds: false },
  { name: 'floors', script: 'bench-floors.ts', builds: true },
  { name: 'containers', script: 'bench-containers.ts', builds: true },
  { name: 'stats', script: 'bench-stats.ts', builds: true },
  { name: 'cp', script: 'bench-cp.ts', builds: false },
  { name: 'network', script: 'bench-network.ts', builds: false },
  { name: 'registry', script: 'bench-registry.ts', builds: true },
  { name: 'build', script: 'bench-build.ts', builds: true },
  { name: 'remote', script: 'bench-remote.ts', builds: true },
  { name: 'compose', script: 'bench-compose.ts', builds: true },
  { name: 'cri', script: 'bench-cri.ts', builds: true },
];

const args = process.argv.slice(2);
const names = args.filter((a) => a !== '--no-build');
const unknown = names.filter((n) => !GROUPS.some((g) => g.name === n));
if (unknown.length > 0) {
  console.error(
    `unknown bench group ${unknown.join(', ')}: the groups are ${GROUPS.map((g) => g.name).join(', ')}`,
  );
  process.exit(2);
}
const chosen = names.length > 0 ? GROUPS.filter((g) => names.includes(g.name)) : GROUPS;
if (!args.includes('--no-build'))
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
for (const g of chosen) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join('scripts', g.script), ...(g.builds ? ['--no-build'] : [])],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0) {
    const how = r.signal ? `was killed by ${r.signal}` : `exited with ${r.status}`;
    console.error(`\nbench group ${g.name} (scripts/${g.script}) ${how}; the groups after it did not run`);
    process.exit(r.status || 1);
  }
}
