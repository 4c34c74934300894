// Secrets and configs that have no host file (`environment:`, `content:`), written into the
// container at create as Compose v2 does (/run/secrets/NAME, mode 0444 unless set), through
// `berth compose up` and `run`; a missing variable fails before anything is created.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeWorkspace } from '../helpers/compose.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
const { project, compose, networks } = composeWorkspace(h, {
  prefix: 'berth-compose-sec-',
  net: '10.196',
  timeoutMs: 120_000,
});

const SLEEPER = `["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]`;

test('environment: and content: secrets/configs land at their targets with their modes and owners', async () => {
  const p = project(
    'sec',
    `services:
  app:
    image: busybox
    command: ${SLEEPER}
    secrets:
      - token
      - source: inline
        target: custom.txt
        mode: 0400
        uid: "123"
        gid: "456"
    configs:
      - source: settings
        target: /etc/app/settings.ini
secrets:
  token:
    environment: APP_TOKEN
  inline:
    file: ./inline.txt
configs:
  settings:
    content: |
      [app]
      greeting=\${GREETING}
${networks()}`,
    { 'inline.txt': 'from a file\n', '.env': 'GREETING=hello from .env\n' },
  );
  ok(await compose(p, ['up', '-d'], { APP_TOKEN: 's3cret-value' }));
  const sh = async (cmd: string) => ok(await compose(p, ['exec', '-T', 'app', 'sh', '-c', cmd]));
  assert.equal(await sh('cat /run/secrets/token'), 's3cret-value');
  assert.equal(await sh('stat -c "%a %u %g" /run/secrets/token'), '444 0 0\n');
  // A file secret is still a read-only bind at its target.
  assert.equal(await sh('cat /run/secrets/custom.txt'), 'from a file\n');
  assert.equal(await sh('cat /etc/app/settings.ini'), '[app]\ngreeting=hello from .env\n');
  // `config` shows where the value comes from, never the secret's value.
  const cfg = ok(await compose(p, ['config'], { APP_TOKEN: 's3cret-value' }));
  assert.match(cfg, /environment: APP_TOKEN/);
  assert.doesNotMatch(cfg, /s3cret-value/);
  // A one-off container gets them too.
  const one = ok(
    await compose(p, ['run', '--rm', '-T', 'app', 'cat', '/run/secrets/token'], { APP_TOKEN: 'other' }),
  );
  assert.equal(one, 'other');
});

test('content: secret with mode, uid and gid is written with those', async () => {
  const p = project(
    'own',
    `services:
  app:
    image: busybox
    command: ${SLEEPER}
    configs:
      - source: c
        target: /conf/c.txt
        mode: "0640"
        uid: "123"
        gid: "456"
configs:
  c:
    content: owned
${networks()}`,
  );
  ok(await compose(p, ['up', '-d']));
  const st = ok(await compose(p, ['exec', '-T', 'app', 'stat', '-c', '%a %u %g', '/conf/c.txt']));
  assert.equal(st, '640 123 456\n');
});

test('a missing variable for an environment: secret fails naming it, and creates nothing', async () => {
  const p = project(
    'miss',
    `services:\n  app:\n    image: busybox\n    command: ${SLEEPER}\n    secrets: [token]\nsecrets:\n  token:\n    environment: NOT_SET_ANYWHERE\n${networks()}`,
  );
  const r = await compose(p, ['up', '-d']);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /environment variable "NOT_SET_ANYWHERE" required by secret "token" of service "app" is not set: set it in the shell or in \.env/,
  );
  assert.equal(ok(await compose(p, ['ps', '-aq'])).trim(), '');
  const ro = project(
    'ro',
    `services:\n  app:\n    image: busybox\n    read_only: true\n    configs: [c]\nconfigs:\n  c:\n    content: x\n${networks()}`,
  );
  const r2 = await compose(ro, ['up', '-d']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /cannot create config "c" in read-only service "app": use "file:" for it/);
  assert.equal(ok(await compose(ro, ['ps', '-aq'])).trim(), '');
});

test('build.secrets from a file and from the environment reach RUN --mount=type=secret; ssh is refused by name (named contexts: compose-build)', async () => {
  const p = project(
    'bsec',
    `services:
  app:
    build:
      context: .
      secrets:
        - filesec
        - source: envsec
          target: fromenv
    image: bsec-app
secrets:
  filesec:
    file: ./filesec.txt
  envsec:
    environment: BUILD_TOKEN
${networks()}`,
    {
      'filesec.txt': 'file-secret',
      Dockerfile:
        'FROM busybox\nRUN --mount=type=secret,id=filesec --mount=type=secret,id=fromenv cat /run/secrets/filesec /run/secrets/fromenv > /seen\n',
    },
  );
  ok(await compose(p, ['build'], { BUILD_TOKEN: '-env-secret' }));
  assert.equal(ok(await h.d.berth(['run', '--rm', 'bsec-app', 'cat', '/seen'])), 'file-secret-env-secret');
  ok(await h.d.berth(['rmi', 'bsec-app']));
  const missing = await compose(p, ['build']);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /environment variable "BUILD_TOKEN" required by build secret "envsec" of service "app" is not set/,
  );

  for (const [key, value, why] of [
    ['ssh', '[default]', /build\.ssh is not supported: Berth's builder has no SSH agent forwarding/],
  ] as const) {
    const q = project(
      `b${key.slice(0, 3)}`,
      `services:\n  app:\n    build:\n      context: .\n      ${key}: ${value}\n${networks()}`,
      { Dockerfile: 'FROM busybox\n' },
    );
    const r = await compose(q, ['build']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`service "app": ${why.source}`));
  }
});
