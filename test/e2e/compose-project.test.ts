// `berth compose` end to end on the 3-service project built from local Dockerfiles:
// up -d --wait (a worker waiting for a healthy db), a request through the published loopback
// port, service-name DNS on the project network, v2's labels, convergence (a changed service is
// the only one recreated), run/exec, and down -v leaving nothing with the project label. Bad
// input creates nothing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ROOT, run } from '../helpers/daemon.ts';
import { useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const work = mkdtempSync(path.join(os.tmpdir(), 'berth-compose-e2e-'));
const dir = path.join(work, 'shop');
const BERTH = path.join(ROOT, 'bin/berth');
let port = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

/** The project files; `greeting` goes to .env (the worker's only change between the two ups). */
function writeProject(greeting: string): void {
  const n = h.d.netByte;
  const files: Record<string, string> = {
    'compose.yaml': `
x-quick-stop: &quick
  stop_grace_period: 1s
services:
  web:
    <<: *quick
    build: ./web
    ports: ["127.0.0.1:\${WEB_PORT:?set WEB_PORT in .env}:8080"]
    volumes: [site:/srv]
    networks: [default, back]
    depends_on:
      worker: {condition: service_started}
  worker:
    <<: *quick
    build: {context: ./worker}
    environment:
      GREETING: "\${GREETING}"
    volumes: [site:/srv]
    networks: [back]
    depends_on:
      db: {condition: service_healthy}
  db:
    <<: *quick
    build: ./db
    networks: [back]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      retries: 50
  debug:
    image: busybox
    profiles: [debug]
networks:
  default:
    ipam: {config: [{subnet: "10.198.${n}.0/24"}]}
  back:
    ipam: {config: [{subnet: "10.197.${n}.0/24"}]}
volumes:
  site: {}
`,
    '.env': `WEB_PORT=${port}\nGREETING=${greeting}\n`,
    'web/Dockerfile': 'FROM busybox\nCMD ["httpd", "-f", "-p", "8080", "-h", "/srv"]\n',
    'worker/Dockerfile':
      'FROM busybox\nCMD ["sh", "-c", "echo \\"$GREETING from worker\\" > /srv/index.html; exec sleep 1000"]\n',
    'db/Dockerfile': 'FROM busybox\nCMD ["sh", "-c", "sleep 0.5; touch /tmp/ready; exec sleep 1000"]\n',
  };
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
}

/** `berth compose ARGS` in `cwd`, against this file's daemon. */
function compose(args: string[], cwd = dir) {
  const script = 'unset COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES; cd "$1" && shift && exec "$@"';
  return run('sh', ['-c', script, 'sh', cwd, BERTH, 'compose', ...args], {
    env: { BERTH_HOST: h.d.host, DOCKER_HOST: h.d.host },
    timeoutMs: 120_000,
  });
}

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Everything on the daemon that carries the project label. */
async function labelled(project: string) {
  const f = `label=com.docker.compose.project=${project}`;
  const q = async (args: string[]) =>
    ok(await h.d.berth(args))
      .split('\n')
      .filter(Boolean);
  return {
    containers: await q(['ps', '-aq', '--filter', f]),
    networks: await q(['network', 'ls', '-q', '--filter', f]),
    volumes: await q(['volume', 'ls', '-q', '--filter', f]),
  };
}

async function ids(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of ok(await compose(['ps', '-a', '--format', 'json']))
    .split('\n')
    .filter(Boolean)) {
    const c = JSON.parse(line) as { ID: string; Service: string };
    out[c.Service] = c.ID;
  }
  return out;
}

after(async () => {
  await compose(['down', '-v', '-t', '0']).catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

test('bad input creates nothing: a dependency cycle fails before any call', async () => {
  const bad = path.join(work, 'cycle');
  mkdirSync(bad);
  writeFileSync(
    path.join(bad, 'compose.yaml'),
    'services:\n  a: {image: busybox, depends_on: [b]}\n  b: {image: busybox, depends_on: [a]}\n',
  );
  const r = await compose(['up', '-d'], bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /compose\.yaml:\d+:\d+: dependency cycle detected/);
  assert.deepEqual(await labelled('cycle'), { containers: [], networks: [], volumes: [] });
});

test('up -d --wait: built images, healthy db before the worker, the page through the loopback port', async () => {
  port = await freePort();
  writeProject('hello');
  ok(await compose(['up', '-d', '--wait']));
  const page = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(await page.text(), 'hello from worker\n');

  const ps = ok(await compose(['ps']));
  assert.match(ps, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+STATUS\s+PORTS/);
  for (const s of ['shop-web-1', 'shop-worker-1', 'shop-db-1']) assert.match(ps, new RegExp(`^${s}\\s`, 'm'));
  // The profiled service does not start by default.
  assert.doesNotMatch(ps, /debug/);
  assert.match(ps, new RegExp(`127\\.0\\.0\\.1:${port}->8080/tcp`));

  const [info] = JSON.parse(ok(await h.d.berth(['inspect', 'shop-worker-1'])));
  const labels = info.Config.Labels as Record<string, string>;
  assert.equal(labels['com.docker.compose.project'], 'shop');
  assert.equal(labels['com.docker.compose.service'], 'worker');
  assert.equal(labels['com.docker.compose.container-number'], '1');
  assert.equal(labels['com.docker.compose.oneoff'], 'False');
  assert.match(labels['com.docker.compose.config-hash']!, /^[0-9a-f]{64}$/);
  assert.equal(labels['com.docker.compose.project.working_dir'], dir);
  assert.equal(labels['com.docker.compose.project.config_files'], path.join(dir, 'compose.yaml'));
  assert.equal(labels['com.docker.compose.depends_on'], 'db:service_healthy:false');
  assert.equal(labels['com.docker.compose.image'], info.Image);
  assert.ok(labels['com.docker.compose.version']);
  assert.deepEqual(Object.keys(info.NetworkSettings.Networks), ['shop_back']);

  // Service names resolve on the project networks (web is on both).
  assert.equal(
    ok(await compose(['exec', '-T', 'worker', 'wget', '-qO-', 'http://web:8080/'])),
    'hello from worker\n',
  );
  const env = ok(
    await compose([
      'exec',
      '-T',
      '-e',
      'X=1',
      '-w',
      '/srv',
      'worker',
      'sh',
      '-c',
      'echo $X $(pwd) $GREETING',
    ]),
  );
  assert.equal(env, '1 /srv hello\n');
});

test('logs carry the service prefix; run --rm starts a one-off container on the project network', async () => {
  const logs = ok(await compose(['logs', '--no-color', 'web', 'db']));
  assert.doesNotMatch(logs, /worker-1/);
  const run1 = await compose([
    'run',
    '--rm',
    '-T',
    '--no-deps',
    '-e',
    'A=b',
    'worker',
    'sh',
    '-c',
    'echo $A; wget -qO- http://web:8080/',
  ]);
  assert.equal(ok(run1), 'b\nhello from worker\n');
  // --rm: the one-off container is gone.
  const left = ok(await h.d.berth(['ps', '-aq', '--filter', 'label=com.docker.compose.oneoff=True']));
  assert.equal(left.trim(), '');
});

test('convergence: up -d after a change recreates only the changed service', async () => {
  const before1 = await ids();
  assert.deepEqual(Object.keys(before1).sort(), ['db', 'web', 'worker']);
  // Nothing changed: nothing is recreated.
  ok(await compose(['up', '-d']));
  assert.deepEqual(await ids(), before1);
  writeProject('changed');
  const r = ok(await compose(['up', '-d', '--wait']));
  void r;
  const after1 = await ids();
  assert.notEqual(after1.worker, before1.worker);
  assert.equal(after1.web, before1.web);
  assert.equal(after1.db, before1.db);
  // The named volume kept its data across the recreate and the new worker wrote to it.
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'changed from worker\n');
});

test('down -v leaves no container, network or volume with the project label', async () => {
  ok(await compose(['down', '-v']));
  assert.deepEqual(await labelled('shop'), { containers: [], networks: [], volumes: [] });
});
