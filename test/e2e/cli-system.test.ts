// berth system df (summary, -v, --format) and system prune (prompt, -a, --volumes, --filter,
// -f) compared with the real docker CLI against the same berthd; system events as an alias.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

// Ages ("3 seconds ago", "Up 2 seconds") move between two runs; widths follow them.
const ages = (s: string) =>
  s
    .replace(/(Less than a second|About a minute|About an hour|\d+ \w+)( ago)/g, '<age>$2')
    .replace(/Up (Less than a second|About a minute|About an hour|\d+ \w+)/g, 'Up <age>')
    .replace(/ {2,}/g, '  ');

describe('berth system df', () => {
  test('the summary, -v and --format print what docker prints', async () => {
    ok(await daemon.d.berth(['volume', 'create', 'df-used']));
    ok(await daemon.d.berth(['volume', 'create', 'df-idle']));
    ok(
      await daemon.d.berth(['run', '-d', '--name', 'df-run', '-v', 'df-used:/v', 'busybox', 'sleep', '300']),
    );
    ok(await daemon.d.berth(['run', '--name', 'df-exited', 'busybox', 'sh', '-c', 'echo hi > /f']));

    const b = ok(await daemon.d.berth(['system', 'df']));
    assert.equal(b, ok(await daemon.d.docker(['system', 'df'])));
    assert.match(b, /^TYPE {12}TOTAL {5}ACTIVE {4}SIZE {6,}RECLAIMABLE\nImages {10}1 {9}1 /);
    assert.match(b, /^Containers {6}2 {9}1 /m);
    assert.match(b, /^Local Volumes {3}2 {9}1 /m);

    const v = ok(await daemon.d.berth(['system', 'df', '-v']));
    assert.equal(ages(v), ages(ok(await daemon.d.docker(['system', 'df', '-v']))));
    assert.match(
      v,
      /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/,
    );
    assert.match(v, /\nLocal Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\n/);
    assert.match(v, /\nBuild cache usage: 0B\n\nCACHE ID +CACHE TYPE/);

    for (const format of [
      'json',
      '{{.Type}}={{.TotalCount}}/{{.Active}}',
      'table {{.Type}}\t{{.Reclaimable}}',
    ]) {
      const args = ['system', 'df', '--format', format];
      assert.equal(ok(await daemon.d.berth(args)), ok(await daemon.d.docker(args)), format);
    }
    const vf = ['system', 'df', '-v', '--format', '{{range .Volumes}}{{.Name}}:{{.Links}} {{end}}'];
    assert.equal(ok(await daemon.d.berth(vf)), ok(await daemon.d.docker(vf)));
    assert.match(ok(await daemon.d.berth(vf)), /df-idle:0/);
  });
});

describe('berth system prune', () => {
  test("asks with docker's text and does nothing unless answered yes", async () => {
    for (const flags of [[], ['-a'], ['--volumes'], ['-a', '--filter', 'label=x', '--filter', 'until=24h']]) {
      const args = ['system', 'prune', ...flags];
      const b = await daemon.d.berth(args, { input: 'n\n' });
      const d = await daemon.d.docker(args, { input: 'n\n' });
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, d.stdout, flags.join(' '));
      assert.match(b.stdout, /^WARNING! This will remove:\n {2}- all stopped containers\n/);
    }
    assert.equal(ok(await daemon.d.berth(['inspect', '-f', '{{.State.Status}}', 'df-exited'])), 'exited\n');
    const bad = await daemon.d.berth(['system', 'prune', '--volumes', '--filter', 'until=1h'], {
      input: 'n\n',
    });
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'ERROR: The "until" filter is not supported with "--volumes"\n');
  });

  test('-f --volumes removes stopped containers and unused anonymous volumes, listing each', async () => {
    const anon = ok(await daemon.d.berth(['run', '-v', '/anon', 'busybox', 'true']));
    void anon;
    const cid = ok(await daemon.d.berth(['inspect', '-f', '{{.Id}}', 'df-exited'])).trim();
    const r = ok(await daemon.d.berth(['system', 'prune', '-f', '--volumes']));
    assert.match(r, new RegExp(`^Deleted Containers:\\n(?:[0-9a-f]{64}\\n)*${cid}\\n`));
    assert.match(r, /\nDeleted Volumes:\n[0-9a-f]{64}\n\n/);
    assert.doesNotMatch(r, /df-idle/);
    assert.match(r, /\nTotal reclaimed space: \d+(\.\d+)?[kMG]?B\n$/);
    assert.equal((await daemon.d.berth(['inspect', 'df-exited'])).code, 1);
    assert.equal(ok(await daemon.d.berth(['ps', '--format', '{{.Names}}'])), 'df-run\n');
    // Nothing left to prune: only the total, as docker prints it.
    const again = await daemon.d.berth(['system', 'prune', '-f']);
    assert.equal(ok(again), ok(await daemon.d.docker(['system', 'prune', '-f'])));
    assert.equal(again.stdout, 'Total reclaimed space: 0B\n');
  });

  test('system events is events', async () => {
    const since = Math.floor(Date.now() / 1000) - 600;
    const args = [
      'system',
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.floor(Date.now() / 1000) + 1),
      '--filter',
      'container=df-run',
      '--format',
      '{{.Action}}',
    ];
    const out = ok(await daemon.d.berth(args));
    assert.match(out, /^create\n/);
    assert.equal(out, ok(await daemon.d.docker(args)));
  });
});
