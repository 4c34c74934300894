// `search` through berthd against a loopback registry: Berth's own registry serves the v1
// search API (Debian's docker-registry does not), so the docker CLI 28 and berth, on the same
// berthd, must print the same table, --no-trunc, --limit, --filter and --format output.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type ServedRegistry, serveRegistry } from '../helpers/berth-registry.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
let root: string;
let reg: ServedRegistry;

after(async () => {
  await reg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function same(args: string[]): Promise<string> {
  const b = await h.d.berth(args);
  const d = await h.d.docker(args);
  assert.equal(b.code, d.code, `${args.join(' ')}: ${b.stderr} / ${d.stderr}`);
  assert.equal(b.stdout, d.stdout, `berth ${args.join(' ')}`);
  assert.equal(b.stderr, d.stderr, `berth ${args.join(' ')}`);
  return b.stdout;
}

test('search a loopback registry: the same output as the docker CLI', async () => {
  // Set up here: the daemon's own before hook must have run first.
  root = await mkdtemp(path.join(os.tmpdir(), 'berth-search-reg-'));
  reg = await serveRegistry(root);
  for (const name of ['tools/searchme', 'tools/searchme-too', 'other/unrelated']) {
    ok(await h.d.berth(['tag', 'busybox', `${reg.host}/${name}:1`]));
    ok(await h.d.berth(['push', '-q', `${reg.host}/${name}:1`]));
  }
  const term = `${reg.host}/searchme`;
  const table = await same(['search', term]);
  assert.match(table, /^NAME +DESCRIPTION +STARS +OFFICIAL\n/);
  assert.match(table, /tools\/searchme\b/);
  assert.doesNotMatch(table, /unrelated/);
  await same(['search', '--no-trunc', term]);
  assert.equal((await same(['search', '--limit', '1', '--format', '{{.Name}}', term])).split('\n').length, 2);
  await same(['search', '--format', '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}', term]);
  await same(['search', '--filter', 'stars=1', term]);
  await same(['search', '--filter', 'is-official=true', term]);
  // Bad input fails alike.
  await same(['search', '--limit', '0', term]);
  await same(['search', '--filter', 'nope=1', term]);
});
