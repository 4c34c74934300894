// `berth compose` builds: named contexts (`build.additional_contexts`: a local folder, another
// service's image with `service:NAME`, `docker-image://`) through `compose build` and `up`, and
// bad input (YAML, schema, depends_on, cycle, `${X:?}`, builds the builder cannot do) refused
// with nothing created: no container, network or volume with the project label.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ROOT, run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const work = mkdtempSync(path.join(os.tmpdir(), 'berth-compose-build-'));
const projects: string[] = [];
after(async () => {
  for (const p of projects) await compose(p, ['down', '-v', '-t', '0']).catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

function project(name: string, files: Record<string, string>): string {
  const dir = path.join(work, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  projects.push(name);
  return name;
}

function compose(name: string, args: string[]) {
  const script = 'unset COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES; cd "$1" && shift && exec "$@"';
  return run(
    'sh',
    ['-c', script, 'sh', path.join(work, name), path.join(ROOT, 'bin/berth'), 'compose', ...args],
    { env: { BERTH_HOST: h.d.host }, timeoutMs: 120_000 },
  );
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

const SLEEPER = `["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]`;

test('additional_contexts: a folder, service:NAME and docker-image:// through compose build and up', async () => {
  const p = project('named', {
    'compose.yaml': `
services:
  base:
    build: ./base
  app:
    build:
      context: ./app
      additional_contexts:
        assets: ./shared
        basectx: service:base
        img: docker-image://busybox
    command: ${SLEEPER}
    stop_grace_period: 1s
  listed:
    build:
      context: ./app
      dockerfile: Listed.Dockerfile
      additional_contexts: ["assets=./shared"]
    command: ${SLEEPER}
    stop_grace_period: 1s
networks:
  default:
    ipam: {config: [{subnet: "10.193.${h.d.netByte}.0/26"}]}
`,
    'base/Dockerfile': 'FROM busybox\nRUN echo from-base > /base-marker\n',
    'app/Dockerfile':
      'FROM basectx\nCOPY --from=assets a.txt /a.txt\nCOPY --from=img /bin/busybox /bb\nRUN --mount=from=assets,target=/m cp /m/a.txt /mounted.txt\n',
    'app/Listed.Dockerfile': 'FROM busybox\nCOPY --from=assets a.txt /a.txt\n',
    'shared/a.txt': 'shared file\n',
  });
  const b = await compose(p, ['build']);
  assert.equal(b.code, 0, b.stderr);
  // base is built before app, which starts FROM its image.
  assert.ok(b.stderr.indexOf('Built base') < b.stderr.indexOf('Building app'), b.stderr);
  const u = await compose(p, ['up', '-d']);
  assert.equal(u.code, 0, u.stderr);
  const out = ok(
    await compose(p, [
      'exec',
      '-T',
      'app',
      'sh',
      '-c',
      'cat /base-marker /a.txt /mounted.txt; test -x /bb && echo bb',
    ]),
  );
  assert.equal(out, 'from-base\nshared file\nshared file\nbb\n');
  assert.equal(ok(await compose(p, ['exec', '-T', 'listed', 'cat', '/a.txt'])), 'shared file\n');
  // config shows the mapping with the folder made absolute, as compose-go resolves it.
  const cfg = ok(await compose(p, ['config', '--format', 'json']));
  const model = JSON.parse(cfg) as {
    services: Record<string, { build: { additional_contexts: Record<string, string> } }>;
  };
  assert.deepEqual(model.services.listed!.build.additional_contexts, {
    assets: path.join(work, p, 'shared'),
  });
  assert.equal(model.services.app!.build.additional_contexts.basectx, 'service:base');
  ok(await compose(p, ['down', '-v', '-t', '0']));
});

test('bad input: each refused with a message naming what and where, and nothing created', async () => {
  // Every project declares a network and a volume and has an image-only service, so a refusal
  // that came late would leave something with the label.
  const rest = `  other:
    image: busybox
    command: ${SLEEPER}
    volumes: [data:/data]
volumes:
  data: {}
networks:
  default: {}
`;
  const buildSvc = (extra: string) => `services:\n  web:\n    build:\n      context: ./web\n${extra}${rest}`;
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'yaml',
      { 'compose.yaml': 'services:\n  web:\n    image: busybox\n   ports: [1\n' },
      /compose\.yaml:4:\d+: YAML syntax error/,
    ],
    [
      'schema',
      { 'compose.yaml': `services:\n  web:\n    image: busybox\n    ports: 80\n${rest}` },
      /compose\.yaml:4:5: services\.web\.ports: must be an array/,
    ],
    [
      'dep',
      { 'compose.yaml': `services:\n  web:\n    image: busybox\n    depends_on: [nope]\n${rest}` },
      /compose\.yaml:4:\d+: service "web" depends on undefined service "nope"/,
    ],
    [
      'cycle',
      {
        'compose.yaml': `services:\n  a: {image: busybox, depends_on: [b]}\n  b: {image: busybox, depends_on: [a]}\n${rest}`,
      },
      /dependency cycle detected/,
    ],
    [
      'var',
      {
        'compose.yaml': `services:\n  web:\n    image: busybox\n    environment: ["K=\${NEEDED:?set NEEDED first}"]\n${rest}`,
      },
      /compose\.yaml:4:\d+: .*required variable NEEDED is missing a value: set NEEDED first/,
    ],
    [
      'ssh',
      { 'compose.yaml': buildSvc('      ssh: [default]\n'), 'web/Dockerfile': 'FROM busybox\n' },
      /service "web": build\.ssh is not supported: .*build\.secrets/,
    ],
    [
      'cacheto',
      {
        'compose.yaml': buildSvc('      cache_to: ["type=local,dest=/tmp/c"]\n'),
        'web/Dockerfile': 'FROM busybox\n',
      },
      /service "web": build\.cache_to is not supported/,
    ],
    [
      'platforms',
      {
        'compose.yaml': buildSvc('      platforms: [linux/amd64, linux/arm64]\n'),
        'web/Dockerfile': 'FROM busybox\n',
      },
      /service "web": build\.platforms lists 2 platforms/,
    ],
    [
      'git-ctx',
      {
        'compose.yaml': buildSvc('      additional_contexts: {src: "https://github.com/x/y.git"}\n'),
        'web/Dockerfile': 'FROM busybox\n',
      },
      /service "web": build\.additional_contexts: named context "src": .* is not supported: use a local directory or docker-image:\/\/REF/,
    ],
    [
      'no-dir',
      {
        'compose.yaml': buildSvc('      additional_contexts: {src: ./missing}\n'),
        'web/Dockerfile': 'FROM busybox\n',
      },
      /named context "src": directory .*missing not found/,
    ],
    [
      'no-dockerfile',
      { 'compose.yaml': buildSvc(''), 'web/README': 'x\n' },
      /service "web": build\.dockerfile .*web\/Dockerfile not found/,
    ],
    [
      'bad-service-ctx',
      {
        'compose.yaml': buildSvc('      additional_contexts: {b: "service:ghost"}\n'),
        'web/Dockerfile': 'FROM busybox\n',
      },
      /service:ghost names no other service/,
    ],
  ];
  for (const [name, files, re] of cases) {
    const p = project(`bad-${name}`, files);
    const r = await compose(p, ['up', '-d']);
    assert.equal(r.code, 1, `${name}: exit ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, re, name);
    assert.deepEqual(await labelled(p), { containers: [], networks: [], volumes: [] }, name);
  }
  // A build that fails in the builder also leaves nothing: images come before networks.
  const failing = project('bad-run', {
    'compose.yaml': buildSvc(''),
    'web/Dockerfile': 'FROM busybox\nRUN exit 3\n',
  });
  const r = await compose(failing, ['up', '-d']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /service "web" failed to build/);
  assert.deepEqual(await labelled(failing), { containers: [], networks: [], volumes: [] });
});
