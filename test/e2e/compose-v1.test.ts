// Debian's docker-compose 1.29 (Python, older API versions) drives berthd unchanged on the
// issue's project: up -d (builds, healthcheck), ps, logs, exec, run (links the one-off container
// on the project network), down -v leaving nothing labelled. And each compose sees the other's
// project: berth compose lists 1.29's containers by the shared labels. A second `up -d` after
// one service changed recreates only that one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ROOT, run } from '../helpers/daemon.ts';
import { useBusyboxDaemon } from '../helpers/e2e.ts';

const installed = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const h = useBusyboxDaemon();
const work = mkdtempSync(path.join(os.tmpdir(), 'berth-compose-v1-'));
const dir = path.join(work, 'legacy');
after(async () => {
  if (installed) await v1(['down', '-v', '-t', '0']).catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

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

function v1(args: string[]) {
  const script = 'unset COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES; cd "$1" && shift && exec "$@"';
  return run('sh', ['-c', script, 'sh', dir, 'docker-compose', ...args], {
    env: { DOCKER_HOST: h.d.host },
    timeoutMs: 120_000,
  });
}

function berthCompose(args: string[]) {
  const script = 'unset COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES; cd "$1" && shift && exec "$@"';
  return run('sh', ['-c', script, 'sh', dir, path.join(ROOT, 'bin/berth'), 'compose', ...args], {
    env: { BERTH_HOST: h.d.host },
  });
}

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

test('docker-compose 1.29: up -d, ps, logs, exec, run, convergence, down -v against berthd', {
  skip: !installed && 'docker-compose is not installed',
}, async () => {
  const port = await freePort();
  const n = h.d.netByte;
  const files: Record<string, string> = {
    'docker-compose.yml': `version: "3.8"
services:
  web:
    build: ./web
    ports: ["127.0.0.1:\${WEB_PORT}:8080"]
    volumes: [site:/srv]
    networks: [default, back]
    stop_grace_period: 1s
    depends_on: [worker]
  worker:
    build: ./worker
    environment:
      GREETING: "\${GREETING}"
    volumes: [site:/srv]
    networks: [back]
    stop_grace_period: 1s
    depends_on: [db]
  db:
    build: ./db
    networks: [back]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
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
    '.env': `WEB_PORT=${port}\nGREETING=legacy\n`,
    'web/Dockerfile': 'FROM busybox\nCMD ["httpd", "-f", "-p", "8080", "-h", "/srv"]\n',
    'worker/Dockerfile':
      'FROM busybox\nCMD ["sh", "-c", "echo \\"$GREETING from worker\\" > /srv/index.html; echo worker up; exec sleep 1000"]\n',
    'db/Dockerfile': 'FROM busybox\nCMD ["sh", "-c", "sleep 0.5; touch /tmp/ready; exec sleep 1000"]\n',
  };
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }

  ok(await v1(['up', '-d']));
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'legacy from worker\n');
  const ps = ok(await v1(['ps']));
  for (const c of ['legacy_web_1', 'legacy_worker_1', 'legacy_db_1'])
    assert.match(ps, new RegExp(`${c}\\s.*Up`));
  assert.doesNotMatch(ps, /debug/);
  assert.match(ok(await v1(['logs', '--no-color', 'worker'])), /worker_1\s+\| worker up/);
  assert.equal(
    ok(await v1(['exec', '-T', 'worker', 'wget', '-qO-', 'http://web:8080/'])),
    'legacy from worker\n',
  );
  assert.match(
    ok(await v1(['run', '--rm', '-T', 'worker', 'sh', '-c', 'echo one-off; wget -qO- http://web:8080/'])),
    /one-off\nlegacy from worker\n/,
  );

  // The same labels: berth compose sees 1.29's project (it names containers P_S_N).
  const seen = ok(await berthCompose(['ps', '--services']));
  assert.deepEqual(seen.trim().split('\n').sort(), ['db', 'web', 'worker']);

  // Convergence: a changed service (its environment, through .env) is recreated alone.
  const ids = async () => {
    const out: Record<string, string> = {};
    for (const s of ['web', 'worker', 'db']) out[s] = ok(await v1(['ps', '-q', s])).trim();
    return out;
  };
  const before = await ids();
  writeFileSync(path.join(dir, '.env'), `WEB_PORT=${port}\nGREETING=changed\n`);
  ok(await v1(['up', '-d']));
  const afterUp = await ids();
  assert.notEqual(afterUp.worker, before.worker);
  assert.equal(afterUp.web, before.web);
  assert.equal(afterUp.db, before.db);
  assert.equal(ok(await v1(['exec', '-T', 'worker', 'sh', '-c', 'echo $GREETING'])), 'changed\n');

  ok(await v1(['down', '-v']));
  const f = 'label=com.docker.compose.project=legacy';
  assert.equal(ok(await h.d.berth(['ps', '-aq', '--filter', f])).trim(), '');
  assert.equal(ok(await h.d.berth(['network', 'ls', '-q', '--filter', f])).trim(), '');
  assert.equal(ok(await h.d.berth(['volume', 'ls', '-q', '--filter', f])).trim(), '');
});
