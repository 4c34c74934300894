// berth ps / version / info / inspect --format against the real docker CLI on the same berthd:
// every field of docker's container formatter, `{{.Label "k"}}`, published ports, json rows,
// docker's struct field names for version and info, and Go's json printing in inspect.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

/** Runs the same arguments through berth and docker; both must succeed. */
async function both(args: string[]): Promise<{ berth: string; docker: string }> {
  const b = ok(await daemon.d.berth(args));
  const d = ok(await daemon.d.docker(args));
  return { berth: b, docker: d };
}

const ALL_FIELDS =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedAt}}\t{{.Ports}}\t{{.State}}\t{{.Names}}\t{{.Labels}}\t{{.Mounts}}\t{{.Networks}}\t{{.LocalVolumes}}\t{{.Size}}';

describe('berth ps --format', () => {
  test('every formatter field, labels by name and published ports print as docker prints them', async () => {
    ok(await daemon.d.berth(['volume', 'create', 'fmtvol']));
    ok(
      await daemon.d.berth([
        'run',
        '-d',
        '--name',
        'fmt-web',
        '-l',
        'tier=web',
        '-l',
        'app=shop',
        '-p',
        '127.0.0.1:18931:80',
        '-p',
        '127.0.0.1:18932:81',
        '-p',
        '127.0.0.1:18940:90/udp',
        '-v',
        'fmtvol:/data',
        'busybox',
        'sleep',
        '300',
      ]),
    );
    const label = await both(['ps', '--format', '{{.Label "tier"}}|{{.Label "missing"}}|{{.Labels}}']);
    assert.equal(label.berth, 'web||app=shop,tier=web\n');
    assert.equal(label.berth, label.docker);

    const ports = ok(await daemon.d.berth(['ps', '--format', '{{.Ports}}']));
    assert.equal(ports, '127.0.0.1:18931->80/tcp, 127.0.0.1:18932->81/tcp, 127.0.0.1:18940->90/udp\n');

    const table = await both(['ps', '--format', ALL_FIELDS]);
    assert.match(table.berth, /^CONTAINER ID {3}IMAGE {3}/);
    assert.equal(table.berth, table.docker);
    const noTrunc = await both(['ps', '--no-trunc', '--format', ALL_FIELDS]);
    assert.equal(noTrunc.berth, noTrunc.docker);
    // The time-worded fields, with the duration (which may tick between the two runs) masked.
    assert.equal(
      (await daemon.d.berth(['run', '--name', 'fmt-exited', 'busybox', 'sh', '-c', 'exit 3'])).code,
      3,
    );
    const since = (s: string) => s.replace(/Less than a second|About a minute|\d+ (seconds?|minutes?)/g, 'T');
    const timed = await both([
      'ps',
      '-a',
      '--filter',
      'name=fmt-',
      '--format',
      '{{.Names}} {{.RunningFor}} | {{.Status}}',
    ]);
    assert.match(timed.berth, /^fmt-exited .* ago \| Exited \(3\) .* ago$/m);
    assert.match(timed.berth, /^fmt-web .* ago \| Up /m);
    assert.equal(since(timed.berth), since(timed.docker));
    ok(await daemon.d.berth(['rm', 'fmt-exited']));
  });

  test('exposed ports nobody published are listed while the container runs, as docker lists them', async () => {
    ok(
      await daemon.d.berth([
        'run',
        '-d',
        '--name',
        'fmt-expose',
        '--expose',
        '7000',
        '--expose',
        '7002/udp',
        '-p',
        '127.0.0.1:18941:7001',
        'busybox',
        'sleep',
        '300',
      ]),
    );
    const ports = await both(['ps', '--filter', 'name=fmt-expose', '--format', '{{.Ports}}']);
    assert.match(ports.berth, /7000\/tcp/);
    assert.match(ports.berth, /7002\/udp/);
    assert.match(ports.berth, /127\.0\.0\.1:18941->7001\/tcp/);
    assert.equal(ports.berth, ports.docker);
    ok(await daemon.d.berth(['stop', '-t', '0', 'fmt-expose']));
    const stopped = await both(['ps', '-a', '--filter', 'name=fmt-expose', '--format', '{{.Ports}}']);
    assert.equal(stopped.berth, '\n');
    ok(await daemon.d.berth(['rm', 'fmt-expose']));
  });

  test('json rows carry every field (no methods with arguments), keys sorted, as docker prints', async () => {
    const r = await both(['ps', '--format', 'json']);
    const b = JSON.parse(r.berth.trim()) as Record<string, string>;
    const d = JSON.parse(r.docker.trim()) as Record<string, string>;
    for (const k of [
      'Command',
      'CreatedAt',
      'ID',
      'Image',
      'Labels',
      'LocalVolumes',
      'Mounts',
      'Names',
      'Networks',
      'Ports',
      'Size',
      'State',
    ]) {
      assert.equal(b[k], d[k], k);
    }
    assert.equal(b.Label, undefined);
    const keys = Object.keys(b);
    assert.deepEqual(keys, [...keys].sort());
  });

  test('-q prints ids only and warns when a format is also given; -s adds SIZE', async () => {
    const q = await daemon.d.berth(['ps', '-q', '--format', '{{.Names}}']);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /^[0-9a-f]{12}\n$/);
    assert.match(q.stderr, /Ignoring custom format, because both --format and --quiet are set/);
    const s = ok(await daemon.d.berth(['ps', '-s']));
    assert.match(s.split('\n')[0]!, /NAMES +SIZE$/);
  });
});

describe('version, info and inspect --format', () => {
  test("version uses docker's struct field names, json uses its keys", async () => {
    const api = ok(await daemon.d.berth(['version', '--format', '{{.Server.APIVersion}}']));
    assert.equal(api, ok(await daemon.d.docker(['version', '--format', '{{.Server.APIVersion}}'])));
    assert.match(api, /^1\.\d+\n$/);
    assert.match(ok(await daemon.d.berth(['version', '--format', '{{.Client.APIVersion}}'])), /^1\.\d+\n$/);
    const j = JSON.parse(ok(await daemon.d.berth(['version', '--format', '{{json .Server}}'])));
    assert.equal(j.ApiVersion, api.trim());
    assert.equal(j.APIVersion, undefined);
  });

  test('info --format sees the server fields inline and ClientInfo', async () => {
    const r = await both(['info', '--format', '{{.ServerVersion}} {{.NCPU}} {{.CPUCfsQuota}}']);
    assert.equal(r.berth, r.docker);
    assert.match(ok(await daemon.d.berth(['info', '--format', '{{json .ClientInfo.Debug}}'])), /^false\n$/);
  });

  test('inspect {{json}} sorts map keys and escapes HTML as Go does', async () => {
    ok(
      await daemon.d.berth([
        'create',
        '--name',
        'fmt-exp',
        '--expose',
        '8080',
        '--expose',
        '53/udp',
        '-l',
        'x=<a&b>',
        'busybox',
        'true',
      ]),
    );
    const args = ['inspect', '--format', '{{json .Config.ExposedPorts}} {{json .Config.Labels}}', 'fmt-exp'];
    const r = await both(args);
    assert.equal(r.berth, '{"53/udp":{},"8080/tcp":{}} {"x":"<a&b>"}\n');
    assert.equal(r.berth, r.docker);
  });
});
