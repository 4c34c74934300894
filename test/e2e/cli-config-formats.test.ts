// The docker CLI's config.json *Format keys (psFormat, imagesFormat, volumesFormat,
// networksFormat, statsFormat): berth and the docker CLI 28, reading the same config.json
// against the same berthd, print the same; --format wins, and -q ignores the configured one.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const h = useBusyboxDaemon();
let configDir: string;

before(async () => {
  configDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-docker-config-'));
  await fsp.writeFile(
    path.join(configDir, 'config.json'),
    JSON.stringify({
      psFormat: 'ps:{{.Names}}|{{.Image}}',
      imagesFormat: 'img:{{.Repository}}:{{.Tag}}',
      volumesFormat: 'vol:{{.Name}}/{{.Driver}}',
      networksFormat: 'net:{{.Name}}',
      statsFormat: 'stats:{{.Name}}',
    }),
  );
});
after(async () => {
  await fsp.rm(configDir, { recursive: true, force: true });
});

/** The same arguments through berth and docker with the test's config.json; both must agree. */
async function same(args: string[]): Promise<string> {
  const env = { DOCKER_CONFIG: configDir };
  const b = ok(await h.d.berth(args, { env }));
  const d = ok(await h.d.docker(args, { env }));
  assert.equal(b, d, `berth ${args.join(' ')}`);
  return b;
}

test('each configured format is the default of its listing, as with the docker CLI', async () => {
  ok(await h.d.docker(['run', '-d', '--name', 'cfgfmt', 'busybox', 'sleep', '60']));
  ok(await h.d.docker(['volume', 'create', 'cfgvol']));
  try {
    assert.equal(await same(['ps']), 'ps:cfgfmt|busybox\n');
    assert.equal(await same(['container', 'ls']), 'ps:cfgfmt|busybox\n');
    assert.equal(await same(['images']), 'img:busybox:latest\n');
    assert.equal(await same(['volume', 'ls']), 'vol:cfgvol/local\n');
    assert.match(await same(['network', 'ls', '--filter', 'name=bridge']), /^net:bridge\n$/);
    assert.equal(await same(['stats', '--no-stream', 'cfgfmt']), 'stats:cfgfmt\n');
    // An explicit --format wins; -q prints IDs or names, not the configured format.
    assert.equal(await same(['ps', '--format', '{{.Names}}']), 'cfgfmt\n');
    assert.match(await same(['ps', '-q']), /^[0-9a-f]{12}\n$/);
    assert.equal(await same(['volume', 'ls', '-q']), 'cfgvol\n');
    assert.match(await same(['images', '-q']), /^[0-9a-f]{12}\n$/);
    // Without the keys the usual tables come back.
    const plain = ok(await h.d.berth(['ps']));
    assert.match(plain, /^CONTAINER ID +IMAGE/);
  } finally {
    await h.d.docker(['rm', '-f', 'cfgfmt']);
    await h.d.docker(['volume', 'rm', 'cfgvol']);
  }
});
