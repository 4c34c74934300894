// The gelf driver through docker-py against GELF receivers in the test (udp: gzip, zlib and
// none, chunked past 1420 bytes; tcp: NUL-delimited), and journald's native protocol to a unix
// datagram socket the test binds (BERTH_JOURNAL_SOCKET; this machine has no journald): the
// fields Docker sends, and the clear error where no journal exists.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { gelfUdpReceiver, streamReceiver, unixgramReceiver, waitFor } from '../helpers/log-receivers.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-journal-'));
const journal = path.join(tmp, 'journal.sock');
const daemon = useBusyboxDaemon({ env: { BERTH_JOURNAL_SOCKET: journal } });
after(() => rmSync(tmp, { recursive: true, force: true }));

async function py(body: string): Promise<unknown> {
  const script = `
import docker, json
c = docker.DockerClient(base_url="${daemon.d.host}", version="1.41")
${body}
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout || 'null');
}

test('gelf over udp: GELF 1.1 fields, gzip by default, zlib and none, chunks past 1420 bytes', async () => {
  const r = await gelfUdpReceiver();
  try {
    await py(`
ct = c.containers.run("busybox", ["sh", "-c", "echo hello-gelf; echo oops >&2"], name="gelf-a", detach=True,
    labels={"app": "web"}, log_config={"type": "gelf", "config": {"gelf-address": "udp://127.0.0.1:${r.port}", "labels": "app", "tag": "{{.ImageName}}/{{.Name}}"}})
ct.wait()
print(json.dumps(None))
`);
    await waitFor('two messages', () => r.got.length >= 2);
    const id = ok(await daemon.d.docker(['inspect', '-f', '{{.Id}} {{.Image}} {{.Created}}', 'gelf-a']))
      .trim()
      .split(' ');
    const hello = r.got.find((m) => m.short_message === 'hello-gelf')!;
    const oops = r.got.find((m) => m.short_message === 'oops')!;
    assert.equal(hello.version, '1.1');
    assert.equal(hello.host, os.hostname());
    assert.equal(hello.level, 6);
    assert.equal(oops.level, 3);
    assert.equal(hello._container_id, id[0]);
    assert.equal(hello._container_name, 'gelf-a');
    assert.equal(hello._image_name, 'busybox');
    assert.equal(hello._image_id, id[1]);
    assert.equal(hello._created, id[2]);
    assert.equal(hello._tag, 'busybox/gelf-a');
    assert.equal(hello._app, 'web');
    assert.equal(typeof hello.timestamp, 'number');
    assert.ok(Math.abs((hello.timestamp as number) - Date.now() / 1000) < 120);
    assert.deepEqual(r.compressions, ['gzip', 'gzip']);
    r.got.length = 0;
    r.compressions.length = 0;
    const before = r.datagrams.length;
    // 5000 bytes uncompressed: four chunks.
    await py(`
c.containers.run("busybox", ["sh", "-c", "printf '%05000d\\\\n' 7; echo small"], remove=True,
    log_config={"type": "gelf", "config": {"gelf-address": "udp://127.0.0.1:${r.port}", "gelf-compression-type": "none"}})
c.containers.run("busybox", ["echo", "zlibbed"], remove=True,
    log_config={"type": "gelf", "config": {"gelf-address": "udp://127.0.0.1:${r.port}", "gelf-compression-type": "zlib", "gelf-compression-level": "9"}})
print(json.dumps(None))
`);
    await waitFor('three messages', () => r.got.length >= 3);
    const big = r.got.find((m) => String(m.short_message).length > 4000)!;
    assert.equal(big.short_message, `${'0'.repeat(4999)}7`);
    const chunks = r.datagrams.slice(before).filter((d) => d[0] === 0x1e && d[1] === 0x0f);
    assert.equal(chunks.length, Math.ceil(Buffer.byteLength(JSON.stringify(big)) / 1420));
    assert.ok(chunks.every((d) => d.length <= 1432));
    assert.deepEqual(r.compressions.sort(), ['none', 'none', 'zlib']);
  } finally {
    await r.close();
  }
});

test('gelf over tcp: NUL-delimited, uncompressed', async () => {
  const r = await streamReceiver();
  try {
    await py(`
c.containers.run("busybox", ["sh", "-c", "echo one; echo two"], remove=True,
    log_config={"type": "gelf", "config": {"gelf-address": "tcp://127.0.0.1:${r.port}"}})
print(json.dumps(None))
`);
    await waitFor('two messages', () => r.text().split('\0').length >= 3);
    const msgs = r
      .text()
      .split('\0')
      .filter(Boolean)
      .map((t) => JSON.parse(t) as Record<string, unknown>);
    assert.deepEqual(
      msgs.map((m) => m.short_message),
      ['one', 'two'],
    );
    assert.ok(r.text().endsWith('\0'));
  } finally {
    await r.close();
  }
});

test('journald: the native protocol with Docker fields; without a journal socket the start fails clearly', async () => {
  const noJournal = await daemon.d.docker(['run', '--rm', '--log-driver', 'journald', 'busybox', 'true']);
  assert.notEqual(noJournal.code, 0);
  assert.match(
    noJournal.stderr,
    /failed to initialize logging driver: journald is not running here: no journal socket at /,
  );
  const r = await unixgramReceiver(journal);
  try {
    const id = ok(
      await daemon.d.docker([
        'run',
        '-d',
        '--name',
        'jd',
        '--log-driver',
        'journald',
        '--log-opt',
        'tag=web-{{.ID}}',
        '--label',
        'tier=front',
        '--log-opt',
        'labels=tier',
        'busybox',
        'sh',
        '-c',
        'echo to-journal; printf "err\\n" >&2',
      ]),
    ).trim();
    let got: Buffer[] = [];
    for (let i = 0; i < 100 && got.length < 2; i++) {
      got = await r.got();
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(got.length, 2);
    const fields = (b: Buffer) =>
      Object.fromEntries(
        b
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    const a = fields(got.find((b) => b.includes('to-journal'))!);
    assert.deepEqual(a, {
      MESSAGE: 'to-journal',
      PRIORITY: '6',
      CONTAINER_ID: id.slice(0, 12),
      CONTAINER_ID_FULL: id,
      CONTAINER_NAME: 'jd',
      CONTAINER_TAG: `web-${id.slice(0, 12)}`,
      IMAGE_NAME: 'busybox',
      SYSLOG_IDENTIFIER: `web-${id.slice(0, 12)}`,
      TIER: 'front',
    });
    assert.equal(fields(got.find((b) => b.includes('MESSAGE=err'))!).PRIORITY, '3');
  } finally {
    await r.close();
  }
});
