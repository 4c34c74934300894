// Flag and command parity with the real docker CLI 28, measured rather than eyeballed: every
// command docker lists in the groups Berth serves (and every top-level command and alias) must
// exist in `berth`, and every flag of `docker CMD --help` (long and short form) must be in
// `berth CMD --help`, unless the allow-lists below say why it cannot apply. Needs the built
// bin/berth and the docker CLI (the docker CLI only prints help here: its DOCKER_HOST is a dead
// socket and its DOCKER_CONFIG an empty temp dir, so it touches nothing).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from '../helpers/daemon.ts';

const BERTH = path.join(ROOT, 'bin/berth');
const dockerConfig = mkdtempSync(path.join(os.tmpdir(), 'berth-parity-'));
after(() => rmSync(dockerConfig, { recursive: true, force: true }));
// The parity checks compare with the real docker CLI's --help; setup.sh and CI have it (so they
// run there), but a checkout without it cannot compare anything: those tests are skipped, not faked.
const hasDocker = spawnSync('docker', ['--version']).status === 0;

/** The groups of issue 16; swarm, stack, service, node, secret, config, plugin, trust, buildx, manifest are out. */
const GROUPS = ['container', 'image', 'volume', 'network', 'system', 'builder', 'context'];

/** Commands that cannot apply to Berth, with the reason. */
const COMMAND_ALLOW: Record<string, string> = {
  // Cluster (CSI) volumes are a swarm feature: the only thing `volume update` changes.
  'volume update': 'swarm cluster volumes only',
};

/** Flags (by command path, '*' for every command) that cannot apply to Berth, with the reason. */
const FLAG_ALLOW: Record<string, Record<string, string>> = {
  'volume create': {
    '--availability': 'swarm cluster (CSI) volumes',
    '--group': 'swarm cluster (CSI) volumes',
    '--limit-bytes': 'swarm cluster (CSI) volumes',
    '--required-bytes': 'swarm cluster (CSI) volumes',
    '--scope': 'swarm cluster (CSI) volumes',
    '--secret': 'swarm cluster (CSI) volumes',
    '--sharing': 'swarm cluster (CSI) volumes',
    '--topology-preferred': 'swarm cluster (CSI) volumes',
    '--topology-required': 'swarm cluster (CSI) volumes',
    '--type': 'swarm cluster (CSI) volumes',
  },
  'volume ls': { '--cluster': 'swarm cluster (CSI) volumes' },
  'network create': {
    '--ingress': 'the swarm routing-mesh network',
    '--scope': 'swarm-scoped networks',
    '--config-only': 'config-only networks exist to feed swarm services',
    '--config-from': 'config-only networks exist to feed swarm services',
  },
  'network inspect': { '--verbose': 'per-node swarm service details', '-v': 'short form of --verbose' },
};

/** Help texts, each asked once per file (the tests below walk the same commands). */
const seen = new Map<string, string>();
function once(key: string, get: () => string): string {
  if (!seen.has(key)) seen.set(key, get());
  return seen.get(key)!;
}

function docker(args: string[]): string {
  return once(`docker ${args.join(' ')}`, () => dockerUncached(args));
}

function dockerUncached(args: string[]): string {
  const r = spawnSync('docker', args, {
    env: {
      ...process.env,
      DOCKER_HOST: 'unix:///nonexistent/berth-parity.sock',
      DOCKER_CONFIG: dockerConfig,
    },
    encoding: 'utf8',
  });
  return r.stdout;
}

function berth(args: string[]): string {
  return once(`berth ${args.join(' ')}`, () => berthUncached(args));
}

function berthUncached(args: string[]): string {
  const r = spawnSync(BERTH, args, {
    env: { ...process.env, COLUMNS: '80', DOCKER_CONFIG: dockerConfig },
    encoding: 'utf8',
  });
  return r.stdout;
}

/** The lines of a `Heading:` section up to the next blank line. */
function section(help: string, heading: RegExp): string[] {
  const lines = help.split('\n');
  const out: string[] = [];
  let inside = false;
  for (const l of lines) {
    if (heading.test(l)) inside = true;
    else if (inside && l.trim() === '') inside = false;
    else if (inside) out.push(l);
  }
  return out;
}

/** Sub-command names listed in help (`Commands:`-style sections). */
function commandNames(help: string, heading = /^(Common |Management )?Commands:$/): string[] {
  return section(help, heading)
    .map((l) => /^ {2}([a-z][a-z0-9-]*)\s/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** Every flag spelling in the Options section: `--long` and `-s`. */
export function flagNames(help: string): Set<string> {
  const out = new Set<string>();
  for (const l of section(help, /^(Global )?Options:$/)) {
    const m = /^ {2,6}(?:-([a-zA-Z]), )?--([a-z0-9][a-z0-9-]*)/.exec(l);
    if (!m) continue;
    if (m[1]) out.add(`-${m[1]}`);
    out.add(`--${m[2]}`);
  }
  return out;
}

/** The `Aliases:` line as command paths without the program name. */
function aliases(help: string, program: string): string[] {
  const line = section(help, /^Aliases:$/)[0] ?? '';
  return line
    .split(',')
    .map((a) => a.trim().replace(new RegExp(`^${program} `), ''))
    .filter(Boolean);
}

function dockerCommandPaths(): string[] {
  const top = docker(['--help']);
  const paths = [...commandNames(top, /^(Common )?Commands:$/)];
  for (const g of GROUPS) {
    paths.push(g);
    for (const s of commandNames(docker([g, '--help']))) paths.push(`${g} ${s}`);
  }
  return paths;
}

test('every docker command, alias and flag of the served groups exists in berth', {
  skip: !hasDocker,
}, () => {
  execFileSync(BERTH, ['--version']);
  const problems: string[] = [];
  for (const p of dockerCommandPaths()) {
    if (COMMAND_ALLOW[p]) continue;
    const args = p.split(' ');
    const dHelp = docker([...args, '--help']);
    const bHelp = berth([...args, '--help']);
    // The berth help must be the help of this very command, not of its parent.
    if (!new RegExp(`^Usage:\\s+berth ${p}( |$)`, 'm').test(bHelp)) {
      problems.push(`missing command: berth ${p}`);
      continue;
    }
    for (const a of aliases(dHelp, 'docker')) {
      if (!aliases(bHelp, 'berth').includes(a)) problems.push(`berth ${p}: missing alias "berth ${a}"`);
    }
    if (GROUPS.includes(p)) {
      const bSubs = new Set(commandNames(bHelp));
      for (const s of commandNames(dHelp)) {
        const sp = `${p} ${s}`;
        if (!bSubs.has(s) && !COMMAND_ALLOW[sp]) problems.push(`berth ${p} --help does not list ${s}`);
      }
    }
    const bFlags = flagNames(bHelp);
    const allow = { ...FLAG_ALLOW['*'], ...FLAG_ALLOW[p] };
    for (const f of flagNames(dHelp)) {
      if (!bFlags.has(f) && allow[f] === undefined) problems.push(`berth ${p}: missing flag ${f}`);
    }
  }
  const bTop = flagNames(berth(['--help']));
  for (const f of flagNames(docker(['--help']))) {
    if (!bTop.has(f)) problems.push(`berth: missing global option ${f}`);
  }
  assert.deepEqual(problems, []);
});

/** Each flag's `(default …)` hint (wrapped lines joined), '' where none is printed. */
export function defaultHints(help: string): Map<string, string> {
  const out = new Map<string, string>();
  let flag = '';
  let text = '';
  const flush = () => {
    if (flag) out.set(flag, /\(default ((?:[^()]|\([^()]*\))*)\)$/.exec(text.trim())?.[1] ?? '');
  };
  for (const l of section(help, /^(Global )?Options:$/)) {
    const m = /^ {2,6}(?:-[a-zA-Z], )?(--[a-z0-9][a-z0-9-]*)(?: \S+)?\s+(.*)$/.exec(l);
    if (m && /^ {2,6}-/.test(l)) {
      flush();
      flag = m[1]!;
      text = m[2]!;
    } else text += ` ${l.trim()}`;
  }
  flush();
  return out;
}

/** Hints Berth prints differently on purpose. */
const HINT_ALLOW: Record<string, string> = {
  // berth's default daemon is not docker's: the hint says where it connects.
  '--host': 'berth names its own default socket',
};

test("flags both have print docker's (default …) hint", { skip: !hasDocker }, () => {
  const problems: string[] = [];
  for (const p of ['', ...dockerCommandPaths()]) {
    if (COMMAND_ALLOW[p]) continue;
    const args = p ? p.split(' ') : [];
    const want = defaultHints(docker([...args, '--help']));
    const got = defaultHints(berth([...args, '--help']));
    for (const [f, hint] of want)
      if (got.has(f) && got.get(f) !== hint && !(p === '' && HINT_ALLOW[f]))
        problems.push(`berth ${p} ${f}: (default ${got.get(f)}) where docker prints (default ${hint})`);
  }
  assert.deepEqual(problems, []);
});

test('the allow-lists name only flags docker has', { skip: !hasDocker }, () => {
  for (const [p, flags] of Object.entries(FLAG_ALLOW)) {
    const have = flagNames(docker([...p.split(' '), '--help']));
    for (const f of Object.keys(flags))
      assert.ok(have.has(f), `docker ${p} has no ${f}: drop it from FLAG_ALLOW`);
  }
});

/** Commands whose whole `--help` text is docker's, once `docker` reads `berth`. */
const SAME_HELP = [
  ['rm'],
  ['stop'],
  ['kill'],
  ['restart'],
  ['pause'],
  ['unpause'],
  ['wait'],
  ['rename'],
  ['port'],
  ['diff'],
  ['tag'],
  ['top'],
  ['logs'],
  ['container', 'rm'],
  ['container'],
  ['image'],
  ['network'],
];

test("berth CMD --help is docker's layout, byte for byte where the flags are the same", {
  skip: !hasDocker,
}, () => {
  for (const args of SAME_HELP) {
    const want = docker([...args, '--help']).replaceAll('docker', 'berth');
    assert.equal(berth([...args, '--help']), want, `berth ${args.join(' ')} --help`);
  }
});

test('berth --help has docker sections, usage line and global options', { skip: !hasDocker }, () => {
  const b = berth(['--help']);
  assert.match(b, /^Usage: {2}berth \[OPTIONS\] COMMAND\n/);
  const heads = b.split('\n').filter((l) => /^[A-Z][A-Za-z ]+:$/.test(l));
  assert.deepEqual(heads, ['Common Commands:', 'Management Commands:', 'Commands:', 'Global Options:']);
  // Common Commands in docker's order.
  assert.deepEqual(
    commandNames(b, /^Common Commands:$/),
    commandNames(docker(['--help']), /^Common Commands:$/),
  );
  assert.match(b, /^ {2}-H, --host list {10}Daemon socket to connect to/m);
});
