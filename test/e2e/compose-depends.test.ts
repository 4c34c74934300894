// depends_on long syntax as Compose v2 applies it: `required: false` turns a missing, disabled or
// unhealthy dependency into a warning, and `restart: true` restarts the dependent when compose
// restarts or recreates the dependency (and leaves the other dependents alone). And the project
// clean-up flags: orphans warned about then `--remove-orphans`, `down --rmi local|all`.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { composeWorkspace } from '../helpers/compose.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const { work, project, compose, networks } = composeWorkspace(h, {
  prefix: 'berth-compose-dep-',
  net: '10.197',
  timeoutMs: 120_000,
});

const SLEEPER = `["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]`;

const state = async (name: string) => {
  const out = ok(await h.d.berth(['inspect', '-f', '{{.Id}} {{.State.Status}} {{.State.StartedAt}}', name]));
  const [id, status, started] = out.trim().split(' ');
  return { id, status, started };
};

test('required: false: a disabled or unhealthy optional dependency is a warning, not an error', async () => {
  const nets = networks();
  const p = project(
    'opt',
    `services:
  app:
    image: busybox
    command: ${SLEEPER}
    depends_on:
      extra: {condition: service_started, required: false}
      sick: {condition: service_healthy, required: false}
  extra:
    image: busybox
    profiles: [off]
    command: ${SLEEPER}
  sick:
    image: busybox
    command: ${SLEEPER}
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
${nets}`,
  );
  const r = await compose(p, ['up', '-d']);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.match(out, /optional dependency "extra" of service "app" is not enabled/);
  assert.match(
    out,
    /optional dependency "sick" is not running or is unhealthy: container opt-sick-1 is unhealthy/,
  );
  assert.equal((await state('opt-app-1')).status, 'running');
  assert.equal(ok(await h.d.berth(['ps', '-aq', '--filter', 'name=opt-extra'])), '');

  // The same dependency required (the default) fails `up`, naming it.
  writeFileSync(
    path.join(work, p, 'compose.yaml'),
    `services:
  app2:
    image: busybox
    command: ${SLEEPER}
    depends_on:
      sick: {condition: service_healthy}
  sick:
    image: busybox
    command: ${SLEEPER}
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
${nets}`,
  );
  const bad = await compose(p, ['up', '-d', '--remove-orphans']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /opt-sick-1 is unhealthy \(app2 depends on sick\)/);
});

test('restart: true: restarting or recreating the dependency restarts only the dependents that ask', async () => {
  const nets = networks();
  const yaml = (dbEnv: string) => `services:
  db:
    image: busybox
    command: ${SLEEPER}
    environment: {GEN: "${dbEnv}"}
  web:
    image: busybox
    command: ${SLEEPER}
    depends_on:
      db: {condition: service_started, restart: true}
  other:
    image: busybox
    command: ${SLEEPER}
    depends_on: [db]
${nets}`;
  const p = project('rst', yaml('1'));
  ok(await compose(p, ['up', '-d']));
  const before = {
    db: await state('rst-db-1'),
    web: await state('rst-web-1'),
    other: await state('rst-other-1'),
  };

  // `restart db` takes web along (restart: true), not other.
  ok(await compose(p, ['restart', 'db']));
  const afterRestart = {
    db: await state('rst-db-1'),
    web: await state('rst-web-1'),
    other: await state('rst-other-1'),
  };
  assert.notEqual(afterRestart.db.started, before.db.started);
  assert.notEqual(afterRestart.web.started, before.web.started);
  assert.equal(afterRestart.web.id, before.web.id);
  assert.equal(afterRestart.other.started, before.other.started);

  // A changed db is recreated on `up -d`; web is restarted (same container), other untouched.
  writeFileSync(path.join(work, p, 'compose.yaml'), yaml('2'));
  const up = await compose(p, ['up', '-d']);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout + up.stderr, /Container rst-web-1 {2}Restarted/);
  const afterUp = {
    db: await state('rst-db-1'),
    web: await state('rst-web-1'),
    other: await state('rst-other-1'),
  };
  assert.notEqual(afterUp.db.id, afterRestart.db.id);
  assert.equal(afterUp.web.id, afterRestart.web.id);
  assert.notEqual(afterUp.web.started, afterRestart.web.started);
  assert.equal(afterUp.web.status, 'running');
  assert.equal(afterUp.other.id, afterRestart.other.id);
  assert.equal(afterUp.other.started, afterRestart.other.started);
});

// Last in the file: it removes the images it built.
test('orphans are reported, then removed by --remove-orphans; down --rmi local keeps tagged images, --rmi all does not', async () => {
  const nets = networks();
  const yaml = (extra: boolean) => `services:
  built:
    build: ./b
    command: ${SLEEPER}
  tagged:
    build: ./b
    image: rmitest-tagged:v1
    command: ${SLEEPER}
${extra ? `  extra:\n    image: busybox\n    command: ${SLEEPER}\n` : ''}${nets}`;
  const p = project('rmi', yaml(true), { 'b/Dockerfile': 'FROM busybox\nLABEL rmitest=1\n' });
  ok(await compose(p, ['up', '-d']));
  writeFileSync(path.join(work, p, 'compose.yaml'), yaml(false));
  const warn = await compose(p, ['up', '-d']);
  assert.equal(warn.code, 0, warn.stderr);
  assert.match(warn.stdout + warn.stderr, /Found orphan containers \(rmi-extra-1\)/);
  assert.equal((await state('rmi-extra-1')).status, 'running');
  ok(await compose(p, ['up', '-d', '--remove-orphans']));
  assert.equal(ok(await h.d.berth(['ps', '-aq', '--filter', 'name=rmi-extra'])), '');

  const images = async () =>
    ok(await h.d.berth(['images', '--format', '{{.Repository}}:{{.Tag}}']))
      .split('\n')
      .filter((l) => l.startsWith('rmi'))
      .sort();
  assert.deepEqual(await images(), ['rmi-built:latest', 'rmitest-tagged:v1']);
  ok(await compose(p, ['down', '-t', '0', '--rmi', 'local']));
  assert.deepEqual(await images(), ['rmitest-tagged:v1']);
  ok(await compose(p, ['up', '-d']));
  ok(await compose(p, ['down', '-t', '0', '--rmi', 'all']));
  assert.deepEqual(await images(), []);
  assert.equal(ok(await h.d.berth(['images', '-q', 'busybox'])) !== '', true);
});
