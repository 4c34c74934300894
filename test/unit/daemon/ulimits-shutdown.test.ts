// daemon.json default-ulimits / --default-ulimit, shutdown-timeout and live-restore: parsed and
// refused as dockerd parses them, with errors that name the bad part.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandLine } from '../../../src/daemon/config.ts';
import { planReload } from '../../../src/daemon/reload.ts';
import { checkAgainstHost } from '../../../src/daemon/ulimits.ts';
import { takeNotifySocket } from '../../../src/daemon/sd-notify.ts';

const parse = (file: Record<string, unknown>, argv: string[] = []) => {
  const p = parseCommandLine(argv, () => JSON.stringify(file));
  assert.equal(p.kind, 'run');
  if (p.kind !== 'run') throw new Error('unreachable');
  return p.config;
};

test('default-ulimits from the file and from repeated flags (the last one per name wins)', () => {
  assert.deepEqual(parse({}).defaultUlimits, []);
  assert.deepEqual(
    parse({ 'default-ulimits': { nofile: { Name: 'nofile', Soft: 100, Hard: 200 } } }).defaultUlimits,
    [{ Name: 'nofile', Soft: 100, Hard: 200 }],
  );
  // Name may be left out: the key names the limit.
  assert.deepEqual(parse({ 'default-ulimits': { nproc: { Soft: 5, Hard: 6 } } }).defaultUlimits, [
    { Name: 'nproc', Soft: 5, Hard: 6 },
  ]);
  assert.deepEqual(
    parse({}, [
      '--default-ulimit',
      'nofile=10:20',
      '--default-ulimit',
      'core=0',
      '--default-ulimit',
      'nofile=30:40',
    ]).defaultUlimits,
    [
      { Name: 'nofile', Soft: 30, Hard: 40 },
      { Name: 'core', Soft: 0, Hard: 0 },
    ],
  );
});

test('bad default ulimits are refused, naming what is wrong', () => {
  const cases: [Record<string, unknown>, string[], RegExp][] = [
    [{}, ['--default-ulimit', 'nofile'], /invalid --default-ulimit "nofile": use NAME=SOFT\[:HARD\]/],
    [{}, ['--default-ulimit', 'files=1:2'], /invalid ulimit type: files \(use one of core, cpu/],
    [{}, ['--default-ulimit', 'nofile=3:2'], /soft limit must be less than or equal to hard limit: 3 > 2/],
    [{ 'default-ulimits': { nofile: 5 } }, [], /default-ulimits\.nofile: expected an object/],
    [
      { 'default-ulimits': { nofile: { Name: 'nproc', Soft: 1, Hard: 1 } } },
      [],
      /Name "nproc" differs from its key/,
    ],
    [
      { 'default-ulimits': { nofile: { Soft: '1', Hard: 1 } } },
      [],
      /default-ulimits\.nofile: Soft must be an integer/,
    ],
    [
      { 'default-ulimits': [] },
      [],
      /cannot unmarshal array into Go struct field Config\.default-ulimits of type map\[string\]\*units\.Ulimit/,
    ],
    [
      { 'default-ulimits': { nofile: { Soft: 1, Hard: 1 } } },
      ['--default-ulimit', 'nofile=2'],
      /specified both as a flag and in the configuration file: default-ulimits: \(from flag: \[nofile=2\]/,
    ],
  ];
  for (const [file, argv, re] of cases)
    assert.throws(() => parse(file, argv), re, `${JSON.stringify(file)} ${argv}`);
});

test("a default above berthd's own hard limit is refused (no CAP_SYS_RESOURCE to raise it)", () => {
  assert.throws(
    () => checkAgainstHost([{ Name: 'nofile', Soft: 500, Hard: 5000 }], { RLIMIT_NOFILE: 4096 }),
    /default ulimit nofile: hard limit 5000 is above berthd's own hard limit 4096.*use at most nofile=500:4096/,
  );
  assert.doesNotThrow(() =>
    checkAgainstHost([{ Name: 'nofile', Soft: 500, Hard: 4096 }], { RLIMIT_NOFILE: 4096 }),
  );
  // Absent from the table: unlimited on the host.
  assert.doesNotThrow(() =>
    checkAgainstHost([{ Name: 'core', Soft: 1, Hard: 1e9 }], { RLIMIT_NOFILE: 4096 }),
  );
});

test('shutdown-timeout: default 15, file or flag, negative means no limit; reloaded by SIGHUP', () => {
  assert.equal(parse({}).shutdownTimeout, 15);
  assert.equal(parse({ 'shutdown-timeout': 40 }).shutdownTimeout, 40);
  assert.equal(parse({}, ['--shutdown-timeout=-1']).shutdownTimeout, -1);
  assert.throws(
    () => parse({}, ['--shutdown-timeout', '2s']),
    /invalid argument "2s" for "--shutdown-timeout" flag/,
  );
  assert.throws(
    () => parse({ 'shutdown-timeout': 1.5 }),
    /cannot unmarshal number into Go struct field Config\.shutdown-timeout of type int/,
  );
  const plan = planReload(
    parse({}),
    parse({ 'shutdown-timeout': 3, 'default-ulimits': { core: { Soft: 0, Hard: 0 } } }),
  );
  assert.deepEqual(plan.changed['shutdown-timeout'], { from: 15, to: 3 });
  assert.equal(plan.next.shutdownTimeout, 3);
  assert.deepEqual(plan.needRestart, ['default-ulimits']);
});

test('live-restore may be turned off (berthd then stops containers at its shutdown)', () => {
  assert.equal(parse({}).liveRestore, true);
  assert.equal(parse({ 'live-restore': false }).liveRestore, false);
});

test('NOTIFY_SOCKET is taken out of the environment helpers inherit', () => {
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', PATH: '/bin' };
  assert.equal(takeNotifySocket(env), '/run/systemd/notify');
  assert.deepEqual(env, { PATH: '/bin' });
  assert.equal(takeNotifySocket({ NOTIFY_SOCKET: '' }), undefined);
});
