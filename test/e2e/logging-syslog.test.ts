// The syslog log driver through the docker CLI, against receivers on 127.0.0.1 and a unix
// datagram socket the test binds: Docker's formats (the local UNIX format by default, RFC 3164,
// RFC 5424 and its microsecond variant), priorities (facility * 8 + info for stdout, err for
// stderr), `tag` templates, octet counting over TLS, blocking mode's start failure, and `docker
// logs` still reading the local cache.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { streamReceiver, udpReceiver, unixgramReceiver, waitFor } from '../helpers/log-receivers.ts';

const daemon = useBusyboxDaemon();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-syslog-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const STAMP = '[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2}';

test('udp, the default format: <PRI>stamp tag[pid]: line; stdout info, stderr err; docker logs reads the cache', async () => {
  const r = await udpReceiver();
  try {
    const id = ok(
      await daemon.d.docker([
        'run',
        '-d',
        '--name',
        'sl-udp',
        '--log-driver',
        'syslog',
        '--log-opt',
        `syslog-address=udp://127.0.0.1:${r.port}`,
        'busybox',
        'sh',
        '-c',
        'echo out-one; echo err-one >&2',
      ]),
    ).trim();
    await waitFor('two datagrams', () => r.got.length >= 2);
    const lines = r.got.map((b) => b.toString());
    const short = id.slice(0, 12);
    const out = lines.find((l) => l.includes('out-one'))!;
    const err = lines.find((l) => l.includes('err-one'))!;
    // daemon facility (3): 3*8+6 and 3*8+3.
    assert.match(out, new RegExp(`^<30>${STAMP} ${short}\\[\\d+\\]: out-one\\n$`));
    assert.match(err, new RegExp(`^<27>${STAMP} ${short}\\[\\d+\\]: err-one\\n$`));
    ok(await daemon.d.docker(['wait', 'sl-udp']));
    const logs = await daemon.d.docker(['logs', 'sl-udp']);
    assert.equal(logs.stdout, 'out-one\n');
    assert.equal(logs.stderr, 'err-one\n');
    assert.equal(
      ok(await daemon.d.docker(['inspect', '-f', '{{.HostConfig.LogConfig.Type}}', 'sl-udp'])),
      'syslog\n',
    );
  } finally {
    await r.close();
  }
});

test('tcp, rfc5424 and rfc5424micro with a facility and a tag template', async () => {
  const r = await streamReceiver();
  try {
    ok(
      await daemon.d.docker([
        'run',
        '--rm',
        '--name',
        'sl-tcp',
        '--log-driver',
        'syslog',
        '--log-opt',
        `syslog-address=tcp://127.0.0.1:${r.port}`,
        '--log-opt',
        'syslog-format=rfc5424',
        '--log-opt',
        'syslog-facility=local3',
        '--log-opt',
        'tag={{.Name}}/{{.ImageName}}',
        'busybox',
        'sh',
        '-c',
        'echo five-424',
      ]),
    );
    await waitFor('the rfc5424 line', () => r.text().includes('five-424'));
    const host = os.hostname();
    // local3 = 19: 19*8+6 = 158. Version 1, RFC 3339 time without fraction, APP-NAME and MSGID the tag.
    assert.match(
      r.text(),
      new RegExp(
        `^<158>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(Z|[+-]\\d\\d:\\d\\d) ${host} sl-tcp/busybox \\d+ sl-tcp/busybox - five-424\\n$`,
      ),
    );
    r.got.length = 0;
    ok(
      await daemon.d.docker([
        'run',
        '--rm',
        '--log-driver',
        'syslog',
        '--log-opt',
        `syslog-address=tcp://127.0.0.1:${r.port}`,
        '--log-opt',
        'syslog-format=rfc5424micro',
        '--log-opt',
        'tag=x-{{.ID}}',
        'busybox',
        'sh',
        '-c',
        'echo micro >&2',
      ]),
    );
    await waitFor('the micro line', () => r.text().includes('micro'));
    assert.match(
      r.text(),
      /^<27>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d) \S+ x-[0-9a-f]{12} \d+ x-[0-9a-f]{12} - micro\n$/,
    );
  } finally {
    await r.close();
  }
});

test('rfc3164 over tcp+tls with the tls options: hostname in the header; rfc5424 over tls is octet-counted', async () => {
  const key = path.join(tmp, 'key.pem');
  const cert = path.join(tmp, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const r = await streamReceiver({ tls: { key: readFileSync(key), cert: readFileSync(cert) } });
  try {
    ok(
      await daemon.d.docker([
        'run',
        '--rm',
        '--log-driver',
        'syslog',
        '--log-opt',
        `syslog-address=tcp+tls://127.0.0.1:${r.port}`,
        '--log-opt',
        `syslog-tls-ca-cert=${cert}`,
        '--log-opt',
        'syslog-format=rfc3164',
        'busybox',
        'echo',
        'over-tls',
      ]),
    );
    await waitFor('the tls line', () => r.text().includes('over-tls'));
    assert.match(r.text(), new RegExp(`^<30>${STAMP} ${os.hostname()} [0-9a-f]{12}\\[\\d+\\]: over-tls\\n$`));
    r.got.length = 0;
    ok(
      await daemon.d.docker([
        'run',
        '--rm',
        '--log-driver',
        'syslog',
        '--log-opt',
        `syslog-address=tcp+tls://127.0.0.1:${r.port}`,
        '--log-opt',
        'syslog-tls-skip-verify=true',
        '--log-opt',
        'syslog-format=rfc5424',
        'busybox',
        'echo',
        'counted',
      ]),
    );
    await waitFor('the counted line', () => r.text().includes('counted'));
    const m = /^(\d+) (<30>1 .* - counted\n)$/.exec(r.text());
    assert.ok(m, r.text());
    assert.equal(Number(m[1]), Buffer.byteLength(m[2]!));
    // A certificate the CA option does not vouch for is refused at start (blocking mode).
    const refused = await daemon.d.docker([
      'run',
      '--rm',
      '--log-driver',
      'syslog',
      '--log-opt',
      `syslog-address=tcp+tls://127.0.0.1:${r.port}`,
      'busybox',
      'true',
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /failed to initialize logging driver: .*(self.signed|certificate)/i);
  } finally {
    await r.close();
  }
});

test('unixgram:// through the native relay, and a receiver down at start: blocking fails, non-blocking runs', async () => {
  const sock = path.join(tmp, 'syslog.sock');
  const r = await unixgramReceiver(sock);
  try {
    ok(
      await daemon.d.docker([
        'run',
        '--rm',
        '--log-driver',
        'syslog',
        '--log-opt',
        `syslog-address=unixgram://${sock}`,
        '--log-opt',
        'syslog-facility=user',
        'busybox',
        'sh',
        '-c',
        'echo dgram-a; echo dgram-b',
      ]),
    );
    let got: string[] = [];
    for (let i = 0; i < 100 && got.length < 2; i++) {
      got = (await r.got()).map((b) => b.toString());
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(got.length, 2);
    assert.match(got[0]!, new RegExp(`^<14>${STAMP} [0-9a-f]{12}\\[\\d+\\]: dgram-a\\n$`));
    assert.match(got[1]!, /dgram-b\n$/);
  } finally {
    await r.close();
  }
  const down = await daemon.d.docker([
    'run',
    '--name',
    'sl-down',
    '--log-driver',
    'syslog',
    '--log-opt',
    'syslog-address=tcp://127.0.0.1:1',
    'busybox',
    'true',
  ]);
  assert.notEqual(down.code, 0);
  assert.match(down.stderr, /failed to initialize logging driver: .*ECONNREFUSED 127\.0\.0\.1:1/);
  const nb = await daemon.d.docker([
    'run',
    '--rm',
    '--log-driver',
    'syslog',
    '--log-opt',
    'syslog-address=tcp://127.0.0.1:1',
    '--log-opt',
    'mode=non-blocking',
    'busybox',
    'echo',
    'still-runs',
  ]);
  assert.equal(nb.code, 0, nb.stderr);
  assert.equal(nb.stdout, 'still-runs\n');
});
