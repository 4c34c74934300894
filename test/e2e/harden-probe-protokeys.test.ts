// Issue 14 probe: names a user types that are also Object.prototype's own names ("constructor",
// "toString", "hasOwnProperty", "__proto__") must be looked up as names, not as the inherited
// functions: no unknown runtime or ulimit accepted, no 500, no build arg that expands to
// JavaScript source, no label silently dropped; and a plain container still works afterwards.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, test } from 'node:test';
import { type DaemonHolder, makeContext, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon: DaemonHolder = useBusyboxDaemon();
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const PROTO_NAMES = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'];

async function create(body: unknown): Promise<{ status: number; message: string }> {
  const r = await daemon.d.request('POST', '/containers/create', JSON.stringify(body), {
    'Content-Type': 'application/json',
  });
  const json = JSON.parse(r.body.toString() || '{}') as { message?: string; Id?: string };
  return { status: r.status, message: json.message ?? json.Id ?? '' };
}

async function build(dockerfile: string, tag: string) {
  const ctx = await makeContext({ Dockerfile: dockerfile });
  dirs.push(ctx);
  return daemon.d.docker(['build', '--no-cache', '-t', tag, ctx], {
    env: { DOCKER_BUILDKIT: '0' },
    timeoutMs: 60_000,
  });
}

test('HostConfig.Runtime naming a prototype member is an unknown runtime (400)', async () => {
  for (const name of PROTO_NAMES) {
    const r = await create({ Image: 'busybox', Cmd: ['true'], HostConfig: { Runtime: name } });
    assert.equal(r.status, 400, `Runtime ${name}: ${r.status} ${r.message}`);
    assert.match(r.message, /unknown or invalid runtime name/);
  }
});

test('a ulimit named after a prototype member is refused (400)', async () => {
  for (const name of PROTO_NAMES) {
    const r = await create({
      Image: 'busybox',
      Cmd: ['true'],
      HostConfig: { Ulimits: [{ Name: name, Soft: 1, Hard: 1 }] },
    });
    assert.equal(r.status, 400, `ulimit ${name}: ${r.status} ${r.message}`);
    assert.match(r.message, /invalid ulimit name/);
  }
});

test('a build ARG named after a prototype member is unset unless given', async () => {
  const r = await build(
    'FROM busybox\nARG constructor\nARG toString\nRUN echo "c=[$constructor] t=[$toString] end"\n',
    'probe-args',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /c=\[\] t=\[\] end/);
  assert.doesNotMatch(r.stdout, /native code/);
  const given = await daemon.d.docker(
    ['build', '--no-cache', '--build-arg', 'constructor=given', '-q', '-t', 'probe-args2', dirs.at(-1)!],
    { env: { DOCKER_BUILDKIT: '0' } },
  );
  assert.equal(given.code, 0, given.stderr);
});

test('RUN --mount=type=<prototype member> is an unknown mount type, not a crash', async () => {
  for (const type of ['constructor', 'toString', 'hasOwnProperty']) {
    const r = await build(`FROM busybox\nRUN --mount=type=${type},target=/x true\n`, 'probe-mount');
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(`unknown mount type "${type}"`), out);
  }
  const r = await build('FROM busybox\nRUN --mount=type=bind,__proto__=1,target=/x true\n', 'probe-mount');
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /unknown option "__proto__" for a bind mount/);
});

test('LABEL keys named after prototype members are kept as labels', async () => {
  const r = await build('FROM busybox\nLABEL __proto__=p constructor=c toString=t\n', 'probe-labels');
  assert.equal(r.code, 0, r.stderr);
  const labels = JSON.parse(
    ok(await daemon.d.docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', 'probe-labels'])),
  ) as Record<string, string>;
  assert.deepEqual(
    Object.entries(labels).sort(),
    [
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['toString', 't'],
    ].sort(),
  );
});

test('--log-opt labels= naming a prototype member adds no detail the container lacks', async () => {
  const out = ok(
    await daemon.d.docker([
      'run',
      '--name',
      'probe-logdetails',
      '--label',
      'real=yes',
      '--log-opt',
      'labels=constructor,toString,real',
      'busybox',
      'echo',
      'hello',
    ]),
  );
  assert.equal(out.trim(), 'hello');
  const logs = ok(await daemon.d.docker(['logs', '--details', 'probe-logdetails']));
  assert.doesNotMatch(logs, /native code|constructor=|toString=/);
  assert.match(logs, /real=yes/);
});

test('after all of the above a plain container still runs', async () => {
  const out = ok(await daemon.d.docker(['run', '--rm', 'busybox', 'echo', 'still-fine']));
  assert.equal(out.trim(), 'still-fine');
  const r = await daemon.d.request('GET', '/_ping');
  assert.equal(r.status, 200);
});
