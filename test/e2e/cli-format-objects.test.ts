// berth images / volume ls / network ls / history --format against the real docker CLI on the
// same berthd: every field of docker's formatter for each command, the default tables, -q,
// --no-trunc, --digests, -H=false, json rows and the way -q meets a custom format.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

/**
 * Runs the same arguments through berth and docker; both must succeed and print the same.
 * The fixture image is seconds old, so `ages` lets an age tick between the two runs: ages
 * are masked and, since a longer age widens its column, runs of spaces compared as one.
 */
async function same(args: string[], opts: { ages?: boolean } = {}): Promise<string> {
  const mask = (s: string) =>
    opts.ages
      ? s
          .replace(/(Less than a second|About a minute|\d+ (seconds?|minutes)) ago/g, 'AGE')
          .replace(/ {2,}/g, '  ')
      : s;
  const b = ok(await daemon.d.berth(args));
  const d = ok(await daemon.d.docker(args));
  assert.equal(mask(b), mask(d), `berth ${args.join(' ')}`);
  return b;
}

/** Both print the same json rows (parsed, so that key order is compared as sorted by both). */
async function sameJson(args: string[]): Promise<Record<string, string>[]> {
  const parse = (s: string) =>
    s
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string>);
  const age = (rows: Record<string, string>[]) =>
    rows.map((r) => ('CreatedSince' in r ? { ...r, CreatedSince: 'AGE' } : r));
  const b = age(parse(ok(await daemon.d.berth(args))));
  const d = age(parse(ok(await daemon.d.docker(args))));
  assert.deepEqual(b, d, `berth ${args.join(' ')}`);
  for (const row of b) assert.deepEqual(Object.keys(row), Object.keys(row).sort());
  return b;
}

const IMAGE_FIELDS =
  'table {{.ID}}\t{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.CreatedSince}}\t{{.CreatedAt}}\t{{.Size}}\t{{.Containers}}\t{{.VirtualSize}}\t{{.SharedSize}}\t{{.UniqueSize}}';

describe('berth images --format', () => {
  test('default table, -a, --no-trunc, --digests and every field print as docker prints them', async () => {
    ok(await daemon.d.berth(['tag', 'busybox', 'busybox:fmt2']));
    const table = await same(['images'], { ages: true });
    assert.match(table, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n/);
    await same(['images', '-a'], { ages: true });
    await same(['images', '--no-trunc'], { ages: true });
    await same(['images', '--digests'], { ages: true });
    await same(['images', '--format', IMAGE_FIELDS], { ages: true });
    await same(['images', '--no-trunc', '--format', IMAGE_FIELDS], { ages: true });
    // --digests adds a DIGEST column to a custom table that lacks one.
    const custom = await same(['images', '--digests', '--format', 'table {{.Repository}}:{{.Tag}}']);
    assert.match(custom, /DIGEST/);
  });

  test('-q prints one id per tag; a custom format given with -q wins', async () => {
    const q = await same(['images', '-q']);
    assert.match(q, /^([0-9a-f]{12}\n)+$/);
    const qf = await same(['images', '-q', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.match(qf, /busybox:fmt2/);
  });

  test('json rows carry every field, keys sorted', async () => {
    const rows = await sameJson(['images', '--format', 'json']);
    assert.ok(rows.length > 0);
    assert.equal(rows[0]!.Containers, 'N/A');
  });
});

describe('berth volume ls --format', () => {
  test('natural name order, every field, labels by name, -q and json as docker prints them', async () => {
    for (const [name, label] of [
      ['fmtv10', 'tier=db'],
      ['fmtv2', 'tier=web'],
      ['fmtv1', 'tier=cache'],
    ] as const)
      ok(await daemon.d.berth(['volume', 'create', '--label', label, name]));
    const table = await same(['volume', 'ls', '--filter', 'name=fmtv']);
    assert.match(table, /fmtv1\n.*fmtv2\n.*fmtv10\n$/);
    const fields =
      'table {{.Name}}\t{{.Driver}}\t{{.Scope}}\t{{.Mountpoint}}\t{{.Labels}}\t{{.Label "tier"}}\t{{.Links}}\t{{.Size}}\t{{.Group}}\t{{.Availability}}\t{{.Status}}';
    await same(['volume', 'ls', '--format', fields]);
    await same(['volume', 'ls', '-q']);
    const qf = await same(['volume', 'ls', '-q', '--format', '{{.Name}}={{.Label "tier"}}']);
    assert.match(qf, /fmtv2=web/);
    await sameJson(['volume', 'ls', '--format', 'json']);
  });
});

describe('berth network ls --format', () => {
  test('every field, --no-trunc, -q and json as docker prints them', async () => {
    ok(await daemon.d.berth(['network', 'create', '--label', 'tier=back', 'fmtnet10']));
    ok(await daemon.d.berth(['network', 'create', '--internal', 'fmtnet9']));
    const table = await same(['network', 'ls']);
    assert.match(table, /fmtnet9 .*\n.*fmtnet10 /);
    const fields =
      'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}\t{{.IPv4}}\t{{.IPv6}}\t{{.Internal}}\t{{.Labels}}\t{{.Label "tier"}}\t{{.CreatedAt}}';
    await same(['network', 'ls', '--format', fields]);
    await same(['network', 'ls', '--no-trunc', '--format', fields]);
    await same(['network', 'ls', '-q']);
    await same(['network', 'ls', '-q', '--format', '{{.Name}}']);
    await sameJson(['network', 'ls', '--format', 'json']);
  });
});

describe('berth history --format', () => {
  test('default table, --no-trunc, -H=false, -q and every field as docker prints them', async () => {
    const table = await same(['history', 'busybox'], { ages: true });
    assert.match(table, /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n/);
    await same(['history', '--no-trunc', 'busybox'], { ages: true });
    const raw = await same(['history', '-H=false', 'busybox']);
    assert.match(raw, /^IMAGE +CREATED AT +CREATED BY/);
    await same(['history', '-q', 'busybox']);
    await same(['history', '-q', '--format', '{{.ID}} {{.Size}}', 'busybox']);
    const fields =
      'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    await same(['history', '--format', fields, 'busybox'], { ages: true });
    await same(['history', '-H=false', '--format', fields, 'busybox']);
    await sameJson(['history', '--format', 'json', 'busybox']);
  });
});

describe('berth events --format', () => {
  test("templates see moby's events.Message fields, json prints the struct as docker does", async () => {
    const since = (Date.now() / 1000 - 1).toFixed(3);
    ok(await daemon.d.berth(['volume', 'create', '--label', 'k=v', 'fmtev']));
    ok(await daemon.d.berth(['run', '--rm', '--name', 'fmt-ev', '-l', 'app=ev', 'busybox', 'true']));
    const until = (Date.now() / 1000 + 0.5).toFixed(3);
    await new Promise((r) => setTimeout(r, 600));
    const window = ['--since', since, '--until', until];
    const fields =
      '{{.Status}}|{{.ID}}|{{.From}}|{{.Type}}|{{.Action}}|{{.Actor.ID}}|{{.Actor.Attributes}}|{{.Scope}}|{{.Time}}|{{.TimeNano}}';
    const lines = await same(['events', ...window, '--format', fields]);
    assert.match(lines, /\|volume\|create\|fmtev\|map\[/);
    const json = await same(['events', ...window, '--format', '{{json .}}']);
    assert.match(json, /^\{"status":"create","id":"[0-9a-f]{64}","from":"busybox","Type":"container"/m);
    await same(['events', ...window, '--format', 'json']);
    // `system events` is the same command.
    assert.equal(await same(['system', 'events', ...window, '--format', fields]), lines);
  });
});

describe('berth stats --no-stream --format', () => {
  test('.Container is what was asked for, --no-trunc prints full IDs, NET I/O is summed as docker does', async () => {
    ok(
      await daemon.d.berth([
        'run',
        '-d',
        '--name',
        'fmt-stats',
        '--network',
        'none',
        'busybox',
        'sleep',
        '300',
      ]),
    );
    const fields = '{{.Container}}|{{.Name}}|{{.ID}}|{{.NetIO}}|{{.PIDs}}';
    const byName = await same(['stats', '--no-stream', '--format', fields, 'fmt-stats']);
    assert.match(byName, /^fmt-stats\|fmt-stats\|[0-9a-f]{12}\|0B \/ 0B\|1\n$/);
    await same(['stats', '--no-stream', '--no-trunc', '--format', fields, 'fmt-stats']);
    await same(['stats', '--no-stream', '--format', fields]);
    ok(await daemon.d.berth(['rm', '-f', 'fmt-stats']));
  });
});
