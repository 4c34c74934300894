// The syslog driver against a real syslog server: Debian's rsyslogd, started by this test with
// its own config (udp and tcp inputs on 127.0.0.1, one output file with the fields rsyslog parsed
// out of each message). The other syslog tests check the bytes Berth sends; this one checks that
// a real server reads them as meant: priority, tag/APP-NAME, hostname, protocol version, the
// sub-second time of rfc5424micro, and the message, for rfc3164 over udp and rfc5424 over tcp
// (octet-counted).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { waitFor } from '../helpers/log-receivers.ts';

const RSYSLOGD = '/usr/sbin/rsyslogd';
const daemon = useBusyboxDaemon();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-rsyslog-'));
const out = path.join(tmp, 'out.log');
let rsyslogd: ChildProcess | undefined;
let udpPort = 0;
let tcpPort = 0;

/** A port free on 127.0.0.1 now (rsyslog binds it right after). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  assert.ok(existsSync(RSYSLOGD), 'rsyslogd is missing: run scripts/setup.sh (Debian package rsyslog)');
  udpPort = await freePort();
  tcpPort = await freePort();
  const conf = path.join(tmp, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${tmp}")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
input(type="imtcp" address="127.0.0.1" port="${tcpPort}")
template(name="fields" type="string"
  string="pri=%pri% ver=%protocol-version% host=%hostname% tag=%syslogtag% app=%app-name% procid=%procid% time=%timereported:::date-rfc3339% msg=%msg%\\n")
*.* action(type="omfile" file="${out}" template="fields")
`,
  );
  // -n: stay in the foreground (this test owns the process); -i: a pid file of its own.
  rsyslogd = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(tmp, 'rsyslogd.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  rsyslogd.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  // Ready once both inputs accept: the tcp one is probed; udp binds in the same start-up.
  const end = Date.now() + 20_000;
  for (;;) {
    const up = await new Promise<boolean>((r) => {
      const c = net.connect(tcpPort, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (up) break;
    if (rsyslogd.exitCode !== null || Date.now() > end) throw new Error(`rsyslogd did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  if (rsyslogd && rsyslogd.exitCode === null) {
    const gone = new Promise((r) => rsyslogd!.once('exit', r));
    rsyslogd.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    if (rsyslogd.exitCode === null) rsyslogd.kill('SIGKILL');
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** The output lines rsyslog wrote for messages containing `marker`. */
interface Parsed {
  pri: string;
  ver: string;
  host: string;
  tag: string;
  app: string;
  procid: string;
  time: string;
  msg: string;
}

function parsed(marker: string): Parsed[] {
  const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
  return text
    .split('\n')
    .filter((l) => l.includes(marker))
    .map((l) => {
      const m = /^pri=(\S*) ver=(\S*) host=(\S*) tag=(\S*) app=(\S*) procid=(\S*) time=(\S*) msg=(.*)$/.exec(
        l,
      );
      assert.ok(m, `an rsyslog line: ${l}`);
      return {
        pri: m[1]!,
        ver: m[2]!,
        host: m[3]!,
        tag: m[4]!,
        app: m[5]!,
        procid: m[6]!,
        time: m[7]!,
        msg: m[8]!,
      };
    });
}

test('rfc3164 over udp: rsyslog reads the priority, the tag[pid] and the message', async () => {
  ok(
    await daemon.d.docker([
      'run',
      '--rm',
      '--log-driver',
      'syslog',
      '--log-opt',
      `syslog-address=udp://127.0.0.1:${udpPort}`,
      '--log-opt',
      'syslog-format=rfc3164',
      '--log-opt',
      'tag=rs3164',
      'busybox',
      'sh',
      '-c',
      'echo out-3164; echo err-3164 >&2',
    ]),
  );
  await waitFor('both rfc3164 lines', () => parsed('-3164').length >= 2);
  const [a, b] = ['out-3164', 'err-3164'].map((m) => parsed(m)[0]!);
  // daemon (3) is Docker's default facility: 3*8+6 (info) for stdout, 3*8+3 (err) for stderr.
  assert.equal(a!.pri, '30');
  assert.equal(b!.pri, '27');
  for (const r of [a!, b!]) {
    assert.match(r.tag, /^rs3164\[\d+\]:$/);
    assert.equal(r.app, 'rs3164');
    assert.equal(r.host, os.hostname());
  }
  // RFC 3164 leaves a space after the colon, which rsyslog keeps as the message's first byte.
  assert.equal(a!.msg.trim(), 'out-3164');
  assert.equal(b!.msg.trim(), 'err-3164');
});

test('rfc5424 and rfc5424micro over tcp (octet-counted): version 1, APP-NAME, PROCID, facility, sub-second time', async () => {
  for (const [format, marker] of [
    ['rfc5424', 'line-5424'],
    ['rfc5424micro', 'line-micro'],
  ] as const) {
    ok(
      await daemon.d.docker([
        'run',
        '--rm',
        '--name',
        `rs-${format}`,
        '--log-driver',
        'syslog',
        '--log-opt',
        `syslog-address=tcp://127.0.0.1:${tcpPort}`,
        '--log-opt',
        `syslog-format=${format}`,
        '--log-opt',
        'syslog-facility=local3',
        '--log-opt',
        'tag={{.Name}}',
        'busybox',
        'sh',
        '-c',
        // Two lines: octet counting keeps them apart (a newline inside a frame is not a break).
        `echo ${marker}-1; echo ${marker}-2`,
      ]),
    );
    await waitFor(`both ${format} lines`, () => parsed(marker).length >= 2);
    const got = parsed(marker);
    assert.deepEqual(
      got.map((r) => r.msg),
      [`${marker}-1`, `${marker}-2`],
    );
    for (const r of got) {
      assert.equal(r.pri, '158', 'local3 (19) * 8 + info (6)');
      assert.equal(r.ver, '1');
      assert.equal(r.app, `rs-${format}`);
      assert.match(r.procid, /^\d+$/);
      assert.equal(r.host, os.hostname());
      // rsyslog prints the time as it parsed it: fraction only when one was sent.
      if (format === 'rfc5424micro') assert.match(r.time, /T\d\d:\d\d:\d\d\.\d{6}/);
      else assert.doesNotMatch(r.time, /T\d\d:\d\d:\d\d\.\d+/);
    }
  }
});
