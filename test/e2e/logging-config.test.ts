// daemon.json log-driver / log-opts: reported by `docker info`, given to containers created
// without a driver (HostConfig.LogConfig always names one), merged as Docker merges them; and
// bad input refused at create with a 400 that names it, nothing created.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestDaemon } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon({
  config: { 'log-driver': 'local', 'log-opts': { 'max-size': '1m', 'max-file': '2' } },
});

const logConfig = async (ref: string) =>
  JSON.parse(ok(await daemon.d.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', ref])));

test('docker info reports the default driver; new containers take it and its options', async () => {
  assert.equal(ok(await daemon.d.docker(['info', '-f', '{{.LoggingDriver}}'])), 'local\n');
  const plugins = ok(await daemon.d.docker(['info', '-f', '{{json .Plugins.Log}}']));
  for (const d of ['json-file', 'local', 'none', 'syslog', 'fluentd', 'gelf', 'journald'])
    assert.ok(JSON.parse(plugins).includes(d), plugins);
  const plain = ok(await daemon.d.docker(['create', 'busybox', 'true'])).trim();
  assert.deepEqual(await logConfig(plain), { Type: 'local', Config: { 'max-size': '1m', 'max-file': '2' } });
  // The container's own option wins; the rest of the defaults fill in (same driver).
  const own = ok(await daemon.d.docker(['create', '--log-opt', 'max-size=5m', 'busybox', 'true'])).trim();
  assert.deepEqual(await logConfig(own), { Type: 'local', Config: { 'max-size': '5m', 'max-file': '2' } });
  // Another driver does not inherit the default driver's options.
  const other = ok(await daemon.d.docker(['create', '--log-driver', 'json-file', 'busybox', 'true'])).trim();
  assert.deepEqual(await logConfig(other), { Type: 'json-file', Config: {} });
  // Through the raw API with an empty Type (docker-py sends that).
  const r = await daemon.d.request(
    'POST',
    '/v1.41/containers/create',
    JSON.stringify({ Image: 'busybox', HostConfig: { LogConfig: { Type: '', Config: {} } } }),
    { 'Content-Type': 'application/json' },
  );
  assert.equal(r.status, 201, r.body.toString());
  const id = (JSON.parse(r.body.toString()) as { Id: string }).Id;
  assert.equal((await logConfig(id)).Type, 'local');
  ok(await daemon.d.docker(['rm', plain, own, other, id]));
});

test('bad input is a 400 naming it, and nothing is created', async () => {
  const before = ok(await daemon.d.docker(['ps', '-aq'])).trim();
  const cases: [string[], RegExp][] = [
    [['--log-driver', 'nope'], /logger: no log driver named 'nope' is registered/],
    [['--log-driver', 'awslogs'], /logging driver "awslogs" is not supported by Berth/],
    [['--log-driver', 'syslog', '--log-opt', 'foo=bar'], /unknown log opt 'foo' for syslog log driver/],
    [
      ['--log-driver', 'syslog', '--log-opt', 'syslog-address=ftp://1.2.3.4'],
      /syslog-address.*unsupported protocol "ftp"/,
    ],
    [
      ['--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp://host:99999'],
      /syslog-address.*port 99999 is out of range/,
    ],
    [['--log-driver', 'syslog', '--log-opt', 'syslog-facility=nope'], /syslog-facility.*"nope"/],
    [['--log-driver', 'syslog', '--log-opt', 'syslog-format=rfc9999'], /syslog-format.*rfc9999/],
    [
      ['--log-driver', 'syslog', '--log-opt', 'tag={{.Nope}}'],
      /invalid log opt 'tag' "\{\{\.Nope\}\}": unknown field/,
    ],
    [['--log-driver', 'fluentd', '--log-opt', 'tag={{.Name'], /invalid log opt 'tag'.*unclosed/],
    [['--log-driver', 'syslog', '--log-opt', 'env-regex=('], /env-regex/],
    [['--log-driver', 'gelf'], /gelf-address is a required parameter/],
    [
      [
        '--log-driver',
        'gelf',
        '--log-opt',
        'gelf-address=udp://127.0.0.1:1',
        '--log-opt',
        'gelf-compression-type=lz4',
      ],
      /gelf-compression-type.*lz4/,
    ],
    [['--log-driver', 'fluentd', '--log-opt', 'fluentd-async=maybe'], /fluentd-async.*true or false/],
    [['--log-driver', 'fluentd', '--log-opt', 'fluentd-retry-wait=soon'], /fluentd-retry-wait.*soon/],
    [['--log-driver', 'fluentd', '--log-opt', 'mode=fast'], /mode.*blocking or non-blocking/],
    [
      ['--log-driver', 'fluentd', '--log-opt', 'max-buffer-size=4m'],
      /max-buffer-size.*only supported with 'mode=non-blocking'/,
    ],
    [['--log-driver', 'fluentd', '--log-opt', 'cache-max-size=huge'], /cache-max-size.*huge/],
    [
      ['--log-driver', 'json-file', '--log-opt', 'cache-disabled=true'],
      /unknown log opt 'cache-disabled' for json-file log driver/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await daemon.d.docker(['create', ...args, 'busybox', 'true']);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
  const raw = await daemon.d.request(
    'POST',
    '/containers/create',
    JSON.stringify({
      Image: 'busybox',
      HostConfig: { LogConfig: { Type: 'syslog', Config: { bogus: '1' } } },
    }),
    { 'Content-Type': 'application/json' },
  );
  assert.equal(raw.status, 400);
  assert.match(raw.body.toString(), /unknown log opt 'bogus' for syslog log driver/);
  assert.equal(ok(await daemon.d.docker(['ps', '-aq'])).trim(), before);
});

test('a daemon.json naming an unknown driver or option stops berthd at start with the reason', async () => {
  for (const [config, re] of [
    [{ 'log-driver': 'nope' }, /no log driver named 'nope'/],
    [
      { 'log-driver': 'syslog', 'log-opts': { 'syslog-adress': 'udp://127.0.0.1:514' } },
      /unknown log opt 'syslog-adress'/,
    ],
  ] as const) {
    await assert.rejects(startTestDaemon({ config }), (e: Error) => {
      assert.match(e.message, re);
      return true;
    });
  }
});
