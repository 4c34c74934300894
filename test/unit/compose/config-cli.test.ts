// `berth compose config` through the CLI, no daemon: the normalised model, its list options,
// project names, several files, include/extends/profiles, and the bad-input cases (each a
// non-zero exit naming the file, the line and column, and what to do).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { berthCli, run } from '../../helpers/daemon.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'berth-compose-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Writes files under a fresh project folder and returns its path. */
function project(name: string, files: Record<string, string>): string {
  const dir = path.join(root, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

/** Runs `berth compose ARGS` in `dir` with no COMPOSE_* variable but those in `env`. */
function compose(dir: string, args: string[], env: Record<string, string> = {}) {
  const script =
    'unset COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES; cd "$1" && shift && exec env "$@"';
  const kv = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const berth = path.resolve(import.meta.dirname, '../../../bin/berth');
  return run('sh', ['-c', script, 'sh', dir, ...kv, berth, 'compose', ...args]);
}

test('config: interpolation from .env and the shell, normalised long syntax, project-scoped names', async () => {
  const dir = project('My App.1', {
    'compose.yaml': [
      'services:',
      '  web:',
      '    image: "busybox:${TAG:-latest}"',
      '    ports: ["127.0.0.1:${PORT}:80"]',
      '    volumes: [./site:/srv:ro, data:/data]',
      '    environment:',
      '      - MODE=${MODE?set MODE}',
      '      - FROM_SHELL',
      '    command: httpd -f -p "80"',
      '    depends_on: [db]',
      '  db:',
      '    image: busybox',
      '    healthcheck: {test: "true"}',
      'volumes: {data: {}}',
      '',
    ].join('\n'),
    '.env': 'PORT=8080\nMODE="dev"\nFROM_SHELL=not-this\n',
  });
  const r = await compose(dir, ['config'], { FROM_SHELL: 'shell', TAG: '1.36' });
  assert.equal(r.code, 0, r.stderr);
  const m = parse(r.stdout);
  // The folder name normalised as v2 does: lowercase, no space or dot.
  assert.equal(m.name, 'myapp1');
  assert.equal(m.services.web.image, 'busybox:1.36');
  assert.deepEqual(m.services.web.ports, [
    { mode: 'ingress', target: 80, protocol: 'tcp', published: '8080', host_ip: '127.0.0.1' },
  ]);
  assert.equal(m.services.web.volumes[0].source, path.join(dir, 'site'));
  assert.deepEqual(m.services.web.environment, { MODE: 'dev', FROM_SHELL: 'shell' });
  assert.deepEqual(m.services.web.command, ['httpd', '-f', '-p', '80']);
  assert.deepEqual(m.services.web.depends_on, { db: { condition: 'service_started', required: true } });
  assert.deepEqual(m.services.db.healthcheck.test, ['CMD-SHELL', 'true']);
  assert.deepEqual(m.networks, { default: { name: 'myapp1_default' } });
  assert.deepEqual(m.volumes, { data: { name: 'myapp1_data' } });

  const j = await compose(dir, ['config', '--format', 'json']);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(JSON.parse(j.stdout).services.web.image, 'busybox:latest');
  assert.equal((await compose(dir, ['config', '--services'])).stdout, 'db\nweb\n');
  assert.equal((await compose(dir, ['config', '--volumes'])).stdout, 'data\n');
});

test('project name: -p over COMPOSE_PROJECT_NAME over name: over the folder; invalid names refused', async () => {
  const dir = project('named', { 'compose.yaml': 'name: fromfile\nservices: {a: {image: busybox}}\n' });
  const name = async (args: string[], env: Record<string, string> = {}) =>
    parse(ok(await compose(dir, [...args, 'config'], env))).name;
  assert.equal(await name([]), 'fromfile');
  assert.equal(await name([], { COMPOSE_PROJECT_NAME: 'fromenv' }), 'fromenv');
  assert.equal(await name(['-p', 'flag'], { COMPOSE_PROJECT_NAME: 'fromenv' }), 'flag');
  const bad = await compose(dir, ['-p', 'Bad Name', 'config']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /"Bad Name" is not a valid project name: it must contain only lowercase letters/);
});

test('${COMPOSE_PROJECT_NAME} is the project name from the folder, name:, the variable or -p', async () => {
  const yaml = (name: string) =>
    `${name}services: {a: {image: busybox, labels: {p: "\${COMPOSE_PROJECT_NAME}"}, environment: [COMPOSE_PROJECT_NAME]}}\n`;
  const folder = project('Folder_X', { 'compose.yaml': yaml('') });
  const named = project('other', { 'compose.yaml': yaml('name: fromfile\n') });
  const seen = async (dir: string, args: string[], env: Record<string, string> = {}) => {
    const svc = parse(ok(await compose(dir, [...args, 'config'], env))).services.a;
    return [svc.labels.p, svc.environment.COMPOSE_PROJECT_NAME];
  };
  assert.deepEqual(await seen(folder, []), ['folder_x', 'folder_x']);
  assert.deepEqual(await seen(named, []), ['fromfile', 'fromfile']);
  assert.deepEqual(await seen(named, [], { COMPOSE_PROJECT_NAME: 'fromenv' }), ['fromenv', 'fromenv']);
  assert.deepEqual(await seen(named, ['-p', 'flag']), ['flag', 'flag']);
});

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('several files merge in order; the override file is found; profiles and COMPOSE_PROFILES', async () => {
  const dir = project('multi', {
    'compose.yaml':
      'services:\n  a: {image: busybox, command: [one], dns: [1.1.1.1]}\n  dbg: {image: busybox, profiles: [debug]}\n',
    'compose.override.yaml': 'services:\n  a: {command: [two], dns: [8.8.8.8]}\n',
    'extra.yaml': 'services:\n  a: {environment: {X: "1"}}\n',
  });
  let m = parse(ok(await compose(dir, ['config'])));
  assert.deepEqual(m.services.a.command, ['two']);
  assert.deepEqual(m.services.a.dns, ['1.1.1.1', '8.8.8.8']);
  assert.deepEqual(Object.keys(m.services), ['a']);
  m = parse(ok(await compose(dir, ['-f', 'compose.yaml', '-f', 'extra.yaml', 'config'])));
  assert.deepEqual(m.services.a.command, ['one']);
  assert.deepEqual(m.services.a.environment, { X: '1' });
  assert.deepEqual(Object.keys(parse(ok(await compose(dir, ['--profile', 'debug', 'config']))).services), [
    'a',
    'dbg',
  ]);
  assert.deepEqual(
    Object.keys(parse(ok(await compose(dir, ['config'], { COMPOSE_PROFILES: 'debug' }))).services),
    ['a', 'dbg'],
  );
  assert.equal(ok(await compose(dir, ['config', '--profiles'])), 'debug\n');
});

test('include and extends', async () => {
  const dir = project('inc', {
    'compose.yaml': [
      'include: [sub/compose.yaml]',
      'services:',
      '  web:',
      '    extends: {file: common.yaml, service: base}',
      '    environment: {PORT: "8080"}',
      '    depends_on: [lib]',
      '',
    ].join('\n'),
    'common.yaml':
      'services:\n  base: {image: busybox, environment: {TZ: utc, PORT: "80"}, volumes: [./data:/data]}\n',
    'sub/compose.yaml': 'services:\n  lib: {image: "busybox:${SUBTAG}", volumes: [./x:/x]}\n',
    'sub/.env': 'SUBTAG=sub\n',
  });
  const m = parse(ok(await compose(dir, ['config'])));
  assert.deepEqual(m.services.web.environment, { TZ: 'utc', PORT: '8080' });
  assert.equal(m.services.web.volumes[0].source, path.join(dir, 'data'));
  assert.equal(m.services.lib.image, 'busybox:sub');
  assert.equal(m.services.lib.volumes[0].source, path.join(dir, 'sub/x'));
});

/** A bad project: exit 1, the message names the file and its line:col, and the pattern. */
async function bad(
  name: string,
  files: Record<string, string>,
  where: RegExp,
  env: Record<string, string> = {},
) {
  const dir = project(name, files);
  const r = await compose(dir, ['config'], env);
  assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, '');
  const file = path.join(dir, 'compose.yaml');
  assert.ok(r.stderr.startsWith(`${file}:`), `${name}: ${r.stderr}`);
  assert.match(r.stderr, where);
}

test('bad input: YAML syntax, schema violations, undefined service, cycle, missing variable', async () => {
  await bad(
    'yaml',
    { 'compose.yaml': 'services:\n  web:\n    image: busybox\n   ports: [1\n' },
    /:4:\d+: YAML syntax error: .*fix the YAML/,
  );
  await bad(
    'unknown-key',
    { 'compose.yaml': 'services:\n  web:\n    image: busybox\n    imagee: x\n' },
    /:4:5: services\.web\.imagee: unknown attribute "imagee".*spelling/,
  );
  await bad(
    'wrong-type',
    { 'compose.yaml': 'services:\n  web:\n    image: busybox\n    ports: 80\n' },
    /:4:5: services\.web\.ports: must be an array, not a number/,
  );
  await bad(
    'undefined-dep',
    { 'compose.yaml': 'services:\n  web:\n    image: busybox\n    depends_on: [dbx]\n' },
    /:4:\d+: service "web" depends on undefined service "dbx": define it/,
  );
  await bad(
    'cycle',
    {
      'compose.yaml':
        'services:\n  a: {image: busybox, depends_on: [b]}\n  b: {image: busybox, depends_on: [a]}\n',
    },
    /:\d+:\d+: dependency cycle detected: (a -> b -> a|b -> a -> b) \(remove one/,
  );
  await bad(
    'missing-var',
    {
      'compose.yaml':
        'services:\n  web:\n    image: busybox\n    environment:\n      - "KEY=${API_KEY:?API_KEY must be set}"\n',
    },
    /:5:9: services\.web\.environment\.0: required variable API_KEY is missing a value: API_KEY must be set \(set it in the environment or in \.env\)/,
  );
  await bad(
    'no-image',
    { 'compose.yaml': 'services:\n  web:\n    command: [x]\n' },
    /:2:3: services\.web: has neither an image nor a build/,
  );
});

test('no compose file: a clear error', async () => {
  const dir = project('empty', { README: 'nothing here\n' });
  const r = await compose(dir, ['config']);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /no configuration file provided: not found in .*empty or its parents \(create compose\.yaml or pass -f FILE\)/,
  );
  void berthCli;
});
