// Pure pieces of the log drivers: k8s-file records to messages (partial lines, the final line),
// tag templates, addresses, syslog formats, GELF chunking, journal fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gelfChunks } from '../../../src/logs/drivers/gelf.ts';
import { journalField, journalName } from '../../../src/logs/drivers/journald.ts';
import { parseTag, renderTag } from '../../../src/logs/drivers/meta.ts';
import { formatSyslog } from '../../../src/logs/drivers/syslog.ts';
import { parseAddress } from '../../../src/logs/drivers/transport.ts';
import type { ContainerLogInfo } from '../../../src/logs/drivers/types.ts';
import { parseMessages } from '../../../src/logs/shipper.ts';

const T = '2026-12-07T15:00:00.123456789Z';

test('parseMessages joins P pieces up to their F record and stops before an unfinished line', () => {
  const text = `${T} stdout F one\n${T} stderr P tw\n${T} stderr F o\n${T} stdout P thr`;
  const buf = Buffer.from(`${text}ee\n`);
  const { messages, end } = parseMessages(buf, 100);
  assert.deepEqual(
    messages.map((m) => [m.stream, m.line.toString()]),
    [
      ['stdout', 'one'],
      ['stderr', 'two'],
    ],
  );
  assert.equal(end, 100 + buf.indexOf(`${T} stdout P thr`));
  assert.deepEqual(messages[0]!.time, { sec: Date.UTC(2026, 11, 7, 15) / 1000, nsec: 123456789 });
  const final = parseMessages(buf, 0, true);
  assert.equal(final.messages.at(-1)!.line.toString(), 'three');
  assert.equal(final.end, buf.length);
});

test('parseMessages keeps an unfinished line per stream; a parse from `end` skips what was sent', () => {
  // `printf ga; echo beta >&2; echo mma`: conmon writes the stdout piece before the stderr line.
  const buf = Buffer.from(`${T} stdout F alpha\n${T} stdout P ga\n${T} stderr F beta\n`);
  const first = parseMessages(buf, 0);
  assert.deepEqual(
    first.messages.map((m) => [m.stream, m.line.toString()]),
    [
      ['stdout', 'alpha'],
      ['stderr', 'beta'],
    ],
  );
  assert.equal(first.end, buf.indexOf(`${T} stdout P ga`));
  assert.equal(first.sent, buf.length);
  const more = Buffer.concat([buf, Buffer.from(`${T} stdout F mma\n`)]);
  const next = parseMessages(more.subarray(first.end), first.end, false, first.sent);
  assert.deepEqual(
    next.messages.map((m) => [m.stream, m.line.toString()]),
    [['stdout', 'gamma']],
  );
  assert.equal(next.end, more.length);
  // The container exited without the rest: the piece is a message of its own stream, once.
  const final = parseMessages(buf.subarray(first.end), first.end, true, first.sent);
  assert.deepEqual(
    final.messages.map((m) => [m.stream, m.line.toString()]),
    [['stdout', 'ga']],
  );
  assert.equal(final.end, buf.length);
});

test('parseMessages with a limit stops after that many messages; the next parse goes on from there', () => {
  const lines = ['a', 'b', 'c', 'd', 'e'];
  const buf = Buffer.from(lines.map((l) => `${T} stdout F ${l}\n`).join('') + `${T} stdout P f\n`);
  const got: string[] = [];
  let at = 0;
  let sent = 0;
  for (let i = 0; i < 10 && at < buf.length; i++) {
    const r = parseMessages(buf.subarray(at), at, true, sent, 2);
    if (r.messages.length === 0) break;
    assert.ok(r.messages.length <= 2, `${r.messages.length} messages in one batch`);
    got.push(...r.messages.map((m) => m.line.toString()));
    at = r.end;
    sent = r.sent;
  }
  // The limit holds back `final` until the last batch, which flushes the unfinished line.
  assert.deepEqual(got, [...lines, 'f']);
});

const info: ContainerLogInfo = {
  id: 'a'.repeat(64),
  name: 'web',
  imageName: 'busybox:latest',
  imageId: `sha256:${'b'.repeat(64)}`,
  created: '2026-12-07T15:00:00Z',
  command: 'sh -c true',
  labels: {},
  env: [],
  daemonName: 'berth',
  hostname: 'h',
};

test('tag templates: fields, text, spaces; bad ones name the problem', () => {
  assert.equal(renderTag(info, undefined), 'a'.repeat(12));
  assert.equal(
    renderTag(info, 'x/{{ .Name }}/{{.ImageID}}/{{.DaemonName}}'),
    `x/web/${'b'.repeat(12)}/berth`,
  );
  assert.equal(renderTag(info, '{{.FullID}}'), info.id);
  assert.throws(() => parseTag('{{.Nope}}'), /unknown field/);
  assert.throws(() => parseTag('{{.Name'), /unclosed/);
  assert.throws(() => parseTag('{{upper .Name}}'), /unknown field/);
});

test('addresses: default ports, unix paths, refusals', () => {
  assert.deepEqual(parseAddress('a', 'udp://10.0.0.1', ['udp'], 514), {
    proto: 'udp',
    host: '10.0.0.1',
    port: 514,
    path: '',
  });
  assert.deepEqual(parseAddress('a', 'tcp://[::1]:99', ['tcp'], 1), {
    proto: 'tcp',
    host: '::1',
    port: 99,
    path: '',
  });
  assert.equal(parseAddress('a', 'unix:///run/x.sock', ['unix'], 0).path, '/run/x.sock');
  assert.throws(() => parseAddress('a', 'unix://rel', ['unix'], 0), /absolute path/);
  assert.throws(() => parseAddress('a', 'http://x', ['udp'], 0), /unsupported protocol "http"/);
  assert.throws(() => parseAddress('a', 'x:1', ['udp'], 0), /use udp:\/\//);
});

test('syslog formats', () => {
  const m = { stream: 'stdout' as const, time: { sec: 0, nsec: 5_000_000 }, line: Buffer.from('hi') };
  assert.match(formatSyslog('', 30, 'h', 't', 7, m), /^<30>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d t\[7\]: hi$/);
  assert.match(formatSyslog('rfc3164', 30, 'h', 't', 7, m), / h t\[7\]: hi$/);
  assert.match(formatSyslog('rfc5424micro', 30, 'h', 't', 7, m), /^<30>1 \S+\.005000\S* h t 7 t - hi$/);
});

test('GELF chunks: 1420-byte payloads with magic, id, sequence and count; 128 at most', () => {
  const id = Buffer.alloc(8, 9);
  const msg = Buffer.alloc(3000, 1);
  const c = gelfChunks(msg, id);
  assert.equal(c.length, 3);
  assert.deepEqual([...c[2]!.subarray(0, 12)], [0x1e, 0x0f, 9, 9, 9, 9, 9, 9, 9, 9, 2, 3]);
  assert.deepEqual(Buffer.concat(c.map((x) => x.subarray(12))), msg);
  assert.equal(gelfChunks(Buffer.alloc(1420), id).length, 1);
  assert.throws(() => gelfChunks(Buffer.alloc(1420 * 128 + 1), id), /128 chunks/);
});

test('journal fields: text form, binary form for newlines, names upper-cased', () => {
  assert.equal(journalField('MESSAGE', 'hi').toString(), 'MESSAGE=hi\n');
  const b = journalField('MESSAGE', 'a\nb');
  assert.equal(b.subarray(0, 8).toString(), 'MESSAGE\n');
  assert.equal(b.readBigUInt64LE(8), 3n);
  assert.equal(b.subarray(16).toString(), 'a\nb\n');
  assert.equal(journalName('com.example-x'), 'COM_EXAMPLE_X');
  assert.equal(journalName('1a'), 'X1A');
});
