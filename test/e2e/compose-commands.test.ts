// berth compose cp, events, wait, push and run --publish, through `berth compose` on a private
// berthd, with the outputs Docker Compose v2 prints (pkg/compose/{cp,events,wait,push}.go,
// pkg/api Event.String, cmd/compose/events.go's JSON keys).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { freePort, type ServedRegistry, serveRegistry } from '../helpers/berth-registry.ts';
import { composeWorkspace } from '../helpers/compose.ts';
import { ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const { work, project, compose, networks } = composeWorkspace(h, {
  prefix: 'berth-compose-cmd-',
  net: '10.197',
  env: { TZ: 'UTC' },
});
let registry: ServedRegistry | undefined;
after(async () => {
  await registry?.stop();
});

// PID 1 must end on SIGTERM, so stops take no grace period.
const SLEEPER = `["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]`;

test('cp: to every replica of a service, from its first one; bad directions are named', async () => {
  const p = project('cp', `services:\n  app:\n    image: busybox\n    command: ${SLEEPER}\n${networks()}`);
  ok(await compose(p, ['up', '-d', '--scale', 'app=2']));
  const local = path.join(work, p, 'note.txt');
  writeFileSync(local, 'copied in\n');
  const r = ok(await compose(p, ['cp', 'note.txt', 'app:/tmp/note.txt']));
  assert.equal(r, '');
  for (const i of ['1', '2']) {
    assert.equal(
      ok(await compose(p, ['exec', '-T', '--index', i, 'app', 'cat', '/tmp/note.txt'])),
      'copied in\n',
    );
  }
  // From the service: the first replica's file, to a local path.
  for (const i of ['1', '2'])
    ok(await compose(p, ['exec', '-T', '--index', i, 'app', 'sh', '-c', `echo replica ${i} > /tmp/who`]));
  const back = await compose(p, ['cp', 'app:/tmp/who', 'who.out']);
  ok(back);
  assert.match(back.stderr, new RegExp(`Container ${p}-app-1  Copied ${p}-app-1:/tmp/who to who.out`));
  assert.equal(readFileSync(path.join(work, p, 'who.out'), 'utf8'), 'replica 1\n');
  // --index picks the replica.
  ok(await compose(p, ['exec', '-T', '--index', '2', 'app', 'sh', '-c', 'echo two > /tmp/only2']));
  ok(await compose(p, ['cp', '--index', '2', 'app:/tmp/only2', 'only2.out']));
  assert.equal(readFileSync(path.join(work, p, 'only2.out'), 'utf8'), 'two\n');

  const across = await compose(p, ['cp', 'app:/etc/hostname', 'app:/tmp/x']);
  assert.equal(across.code, 1);
  assert.match(across.stderr, /copying between services is not supported/);
  const none = await compose(p, ['cp', 'note.txt', 'other.txt']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /unknown copy direction/);
  const unknown = await compose(p, ['cp', 'note.txt', 'nosuch:/tmp/']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no such service: nosuch/);
});

test('events: --json with v2 keys, and the text line v2 prints; compose labels left out', async () => {
  const p = project(
    'ev',
    `services:\n  app:\n    image: busybox\n    command: ${SLEEPER}\n  other:\n    image: busybox\n    command: ${SLEEPER}\n${networks()}`,
  );
  ok(await compose(p, ['up', '-d']));
  const t0 = (Date.now() / 1000).toFixed(3);
  ok(await compose(p, ['restart', 'app']));
  ok(await compose(p, ['restart', 'other']));
  await new Promise((r) => setTimeout(r, 1100));
  const t1 = (Date.now() / 1000).toFixed(3);
  const id = ok(await compose(p, ['ps', '-q', 'app'])).trim();
  const json = ok(await compose(p, ['events', '--json', '--since', t0, '--until', t1, 'app']))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(json.length >= 2, `events: ${JSON.stringify(json)}`);
  for (const e of json) {
    assert.deepEqual(Object.keys(e), ['action', 'attributes', 'id', 'service', 'time', 'type']);
    assert.equal(e.type, 'container');
    assert.equal(e.service, 'app');
    assert.equal(e.id, id);
    const attrs = e.attributes as Record<string, string>;
    assert.equal(attrs.name, `${p}-app-1`);
    assert.ok(!Object.keys(attrs).some((k) => k.startsWith('com.docker.compose.')), JSON.stringify(attrs));
    // time.Time's JSON: RFC 3339 (UTC here), fraction without trailing zeros.
    assert.match(String(e.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
    const at = Date.parse(String(e.time)) / 1000;
    assert.ok(at >= Number(t0) - 0.001 && at <= Number(t1) + 0.001, `${String(e.time)} outside ${t0}..${t1}`);
  }
  const actions = json.map((e) => e.action);
  assert.ok(
    actions.includes('restart') || (actions.includes('die') && actions.includes('start')),
    String(actions),
  );
  // Text: `2006-01-02 15:04:05.000000 container ACTION ID (k=v, ...)`, then an empty line.
  const text = ok(await compose(p, ['events', '--since', t0, '--until', t1]));
  const lines = text.split('\n');
  const events = lines.filter((l) => l !== '');
  assert.ok(events.some((l) => l.includes(id)) && events.some((l) => l.includes(`name=${p}-other-1`)), text);
  for (const l of events) {
    assert.match(l, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} container [a-z_:]+ [0-9a-f]{64} \(.*\)$/);
  }
  assert.equal(lines.filter((l) => l === '').length, events.length + 1, 'an empty line after each event');
});

test('wait: blocks until the services stop, prints each exit, exits with the code', async () => {
  const p = project(
    'wt',
    `services:\n  job:\n    image: busybox\n    command: sh -c 'rm -f /tmp/go; until [ -f /tmp/go ]; do sleep 0.2; done; exit 4'\n  app:\n    image: busybox\n    command: ${SLEEPER}\n${networks()}`,
  );
  ok(await compose(p, ['up', '-d']));
  const id = ok(await compose(p, ['ps', '-q', 'job'])).trim();
  // The job exits when told, once `wait` has had time to start (a job that exits on a timer
  // could stop before a slow CLI start, and wait then finds nothing running).
  const release = async () => {
    await new Promise((r) => setTimeout(r, 4000));
    ok(await compose(p, ['exec', '-T', 'job', 'touch', '/tmp/go']));
  };
  const [r] = await Promise.all([compose(p, ['wait', 'job']), release()]);
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout, `container "${id}" exited with status code 4\n`);
  // Nothing running for the service any more: v2's error.
  const again = await compose(p, ['wait', 'job']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`no containers for project "${p}"`));
  const missing = await compose(p, ['wait']);
  assert.notEqual(missing.code, 0);
  // --down-project: the project goes once the first container stops.
  ok(await compose(p, ['up', '-d']));
  const [down] = await Promise.all([compose(p, ['wait', '--down-project', 'job']), release()]);
  assert.equal(down.code, 4, down.stderr);
  await until('project gone', async () => ok(await compose(p, ['ps', '-aq'])).trim() === '', 20_000);
});

test('push: built services with an image go to the registry, others are skipped; failures name the service', async () => {
  registry = await serveRegistry(mkdtempSync(path.join(work, 'reg-')));
  const ref = `${registry.host}/cmdtest/web:v1`;
  const p = project(
    'ph',
    `services:\n  web:\n    build: .\n    image: ${ref}\n  plain:\n    image: busybox\n${networks()}`,
    { Dockerfile: 'FROM busybox\nRUN echo pushed > /marker\n' },
  );
  ok(await compose(p, ['build']));
  const r = await compose(p, ['push']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`Image ${ref.replace(/[.]/g, '\\.')}  Pushed`));
  assert.match(r.stderr, /Service plain {2}Skipped/);
  const m = await fetch(`http://${registry.host}/v2/cmdtest/web/manifests/v1`, {
    headers: {
      Accept:
        'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    },
  });
  assert.equal(m.status, 200);
  // The pushed image runs the built layer after a pull into a fresh name.
  ok(await h.d.berth(['rmi', ref]));
  ok(await h.d.berth(['pull', '-q', ref]));
  assert.equal(ok(await h.d.berth(['run', '--rm', ref, 'cat', '/marker'])), 'pushed\n');

  const dead = await freePort();
  const bad = project(
    'phbad',
    `services:\n  web:\n    build: .\n    image: 127.0.0.1:${dead}/cmdtest/web:v1\n${networks()}`,
    { Dockerfile: 'FROM busybox\n' },
  );
  ok(await compose(bad, ['build']));
  const failed = await compose(bad, ['push']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /failed to push 127\.0\.0\.1:\d+\/cmdtest\/web:v1 \(service "web"\)/);
  const ignored = await compose(bad, ['push', '--ignore-push-failures']);
  assert.equal(ignored.code, 0, ignored.stderr);
  assert.match(ignored.stderr, /WARN Image 127\.0\.0\.1/);
});

test('run --publish: the one-off container serves on the published loopback port; bad specs are named', async () => {
  const p = project(
    'pub',
    `services:\n  web:\n    image: busybox\n    ports: ["127.0.0.1::9999"]\n    command: ["sh", "-c", "mkdir -p /www && echo one-off > /www/index.html && exec httpd -f -p 8080 -h /www"]\n${networks()}`,
  );
  const name = `${p}-web-pub`;
  ok(await compose(p, ['run', '-d', '--name', name, '-p', '127.0.0.1::8080', 'web']));
  const bindings = JSON.parse(
    ok(await h.d.berth(['inspect', '-f', '{{json .HostConfig.PortBindings}}', name])),
  ) as Record<string, unknown>;
  // --publish replaces the service's own ports (9999 is not there).
  assert.deepEqual(Object.keys(bindings), ['8080/tcp']);
  const port = ok(await h.d.berth(['port', name, '8080'])).trim();
  assert.match(port, /^127\.0\.0\.1:\d+$/);
  let body = '';
  await until(
    'httpd answers',
    async () => {
      body = await fetch(`http://${port}/index.html`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.text())
        .catch(() => '');
      return body !== '';
    },
    15_000,
  );
  assert.equal(body, 'one-off\n');
  ok(await h.d.berth(['rm', '-f', name]));
  const bad = await compose(p, ['run', '-d', '-p', '80:abc', 'web']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--publish 80:abc: invalid port "80:abc"/);
});
