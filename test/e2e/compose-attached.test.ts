// berth compose beyond the happy path: attached `up` (prefixed, coloured with --ansi always,
// --exit-code-from stopping the rest), --scale up and down, --wait failing with the unhealthy
// service named, and `docker compose` through the CLI plugin.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, run } from '../helpers/daemon.ts';
import { composeWorkspace } from '../helpers/compose.ts';
import { useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const { work, project, compose, networks } = composeWorkspace(h, {
  prefix: 'berth-compose-att-',
  net: '10.198',
});

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

test('attached up: prefixed output, --exit-code-from returns that exit code and stops the others', async () => {
  const p = project(
    'att',
    `services:
  job:
    image: busybox
    command: sh -c 'sleep 0.5; echo from job; exit 3'
  longer-service:
    image: busybox
    stop_grace_period: 1s
    command: sh -c 'echo from longer; exec sleep 1000'
${networks()}`,
  );
  const r = await compose(p, ['--ansi', 'always', 'up', '--exit-code-from', 'job']);
  assert.equal(r.code, 3, r.stderr);
  // Names padded to the longest (`longer-service-1`), coloured prefix then `| `.
  assert.match(r.stdout, /\x1b\[[0-9;]+mjob-1 {13}\|\x1b\[0m from job\n/);
  assert.match(r.stdout, /\x1b\[[0-9;]+mlonger-service-1 {2}\|\x1b\[0m from longer\n/);
  assert.match(r.stdout, /job-1 exited with code 3/);
  const states = ok(await compose(p, ['ps', '-a', '--format', '{{.Service}} {{.State}}']))
    .trim()
    .split('\n')
    .sort();
  assert.deepEqual(states, ['job exited', 'longer-service exited']);
  // Without --ansi always and not on a terminal: no colour.
  const plain = await compose(p, ['up', '--abort-on-container-exit']);
  assert.doesNotMatch(plain.stdout, /\x1b\[/);
  assert.match(plain.stdout, /^job-1 {13}\| from job$/m);
});

test('--scale adds and removes replicas (highest numbers go first)', async () => {
  const p = project(
    'scale',
    `services:\n  s:\n    image: busybox\n    stop_grace_period: 1s\n    command: [sleep, "1000"]\n${networks()}`,
  );
  ok(await compose(p, ['up', '-d', '--scale', 's=3']));
  const names = async () =>
    ok(await compose(p, ['ps', '--format', '{{.Name}}']))
      .trim()
      .split('\n')
      .sort();
  assert.deepEqual(await names(), ['scale-s-1', 'scale-s-2', 'scale-s-3']);
  ok(await compose(p, ['up', '-d', '--scale', 's=1']));
  assert.deepEqual(await names(), ['scale-s-1']);
  const bad = await compose(p, ['up', '-d', '--scale', 's=x']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid --scale "s=x": write SERVICE=NUM/);
});

test('--wait fails naming the unhealthy container', async () => {
  const p = project(
    'sick',
    `services:
  sick:
    image: busybox
    stop_grace_period: 1s
    command: [sleep, "1000"]
    healthcheck: {test: ["CMD", "false"], interval: 200ms, retries: 1}
${networks()}`,
  );
  const r = await compose(p, ['up', '-d', '--wait', '--wait-timeout', '30']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /container sick-sick-1 is unhealthy/);
});

test('file secrets and configs are mounted read-only at their targets', async () => {
  const p = project(
    'sec',
    `services:
  s:
    image: busybox
    secrets: [token]
    configs: [{source: app, target: /etc/app.conf}]
secrets:
  token: {file: ./token.txt}
configs:
  app: {file: ./app.conf}
${networks()}`,
  );
  writeFileSync(path.join(work, p, 'token.txt'), 's3cret\n');
  writeFileSync(path.join(work, p, 'app.conf'), 'level=debug\n');
  const out = ok(
    await compose(p, [
      'run',
      '--rm',
      '-T',
      's',
      'sh',
      '-c',
      'cat /run/secrets/token /etc/app.conf; echo x > /run/secrets/token || echo read-only',
    ]),
  );
  assert.match(out, /^s3cret\nlevel=debug\n/);
  assert.match(out, /read-only\n$/);
});

test('docker compose through the CLI plugin', async () => {
  const cfg = path.join(work, 'docker-config');
  mkdirSync(path.join(cfg, 'cli-plugins'), { recursive: true });
  symlinkSync(path.join(ROOT, 'bin/berth-compose-plugin'), path.join(cfg, 'cli-plugins/docker-compose'));
  const p = project(
    'plug',
    `services:\n  a:\n    image: busybox\n    stop_grace_period: 1s\n    command: [sleep, "1000"]\n${networks()}`,
  );
  const docker = (args: string[]) =>
    run('sh', ['-c', 'cd "$1" && shift && exec docker "$@"', 'sh', path.join(work, p), ...args], {
      env: { DOCKER_CONFIG: cfg, DOCKER_HOST: h.d.host },
    });
  assert.match(ok(await docker(['compose', 'version'])), /Berth Compose version v/);
  ok(await docker(['compose', 'up', '-d']));
  assert.equal(ok(await docker(['compose', 'ps', '--format', '{{.Name}}'])), 'plug-a-1\n');
  assert.match(ok(await docker(['compose', 'ls'])), /^plug\s+running\(1\)/m);
  ok(await docker(['compose', 'down']));
  assert.equal(ok(await docker(['compose', 'ps', '-a', '-q'])), '');
});
