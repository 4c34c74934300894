// The docker CLI against berthd, images, networks and sizes (issue 15, the battery): each
// expectation is what the docker CLI 28 printed against Docker 20.10 for the same input.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { serveRegistry, writeHtpasswd } from '../helpers/berth-registry.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const docker = (args: string[]) => daemon.d.docker(args);

test('a missing image is named with its default tag, as Docker words it', async () => {
  for (const args of [
    ['image', 'inspect', 'nope'],
    ['rmi', 'nope'],
    ['tag', 'nope', 'other:1'],
    ['history', 'nope'],
    ['rmi', 'abc123'],
  ]) {
    const r = await docker(args);
    assert.equal(r.code, 1, args.join(' '));
    const shown = args.at(-1) === 'abc123' ? 'abc123' : 'nope';
    assert.match(r.stderr, new RegExp(`^Error response from daemon: No such image: ${shown}:latest$`, 'm'));
  }
  const tagged = await docker(['rmi', 'nope:7']);
  assert.match(tagged.stderr, /No such image: nope:7$/m);
  const id = await docker(['image', 'inspect', `sha256:${'0'.repeat(64)}`]);
  assert.match(id.stderr, new RegExp(`No such image: sha256:${'0'.repeat(64)}$`, 'm'));
  const push = await docker(['push', 'nope']);
  assert.equal(push.code, 1);
  assert.match(push.stderr, /An image does not exist locally with the tag: nope$/m);
});

test("network inspect shows the IPAM options as sent: the CLI's {} as {}, none as null", async (t) => {
  t.after(async () => {
    await docker(['network', 'rm', 'ipo1', 'ipo2']);
  });
  ok(await docker(['network', 'create', '--ipam-opt', 'foo=bar', 'ipo1']));
  ok(await docker(['network', 'create', 'ipo2']));
  assert.equal(
    ok(await docker(['network', 'inspect', '-f', '{{json .IPAM.Options}}', 'ipo1'])).trim(),
    '{"foo":"bar"}',
  );
  assert.equal(ok(await docker(['network', 'inspect', '-f', '{{json .IPAM.Options}}', 'ipo2'])).trim(), '{}');
  assert.equal(
    ok(await docker(['network', 'inspect', '-f', '{{json .IPAM.Options}}', 'bridge'])).trim(),
    'null',
  );
  // A body without IPAM.Options (docker-py's) reads null, as Docker answers it.
  const raw = await daemon.d.request(
    'POST',
    '/v1.41/networks/create',
    JSON.stringify({ Name: 'ipo3', IPAM: { Driver: 'default', Config: [] } }),
    { 'Content-Type': 'application/json' },
  );
  assert.equal(raw.status, 201, raw.body.toString());
  t.after(async () => {
    await docker(['network', 'rm', 'ipo3']);
  });
  assert.equal(
    ok(await docker(['network', 'inspect', '-f', '{{json .IPAM.Options}}', 'ipo3'])).trim(),
    'null',
  );
});

test('ps -s, inspect -s and system df give the writable layer and the virtual size', async (t) => {
  t.after(async () => {
    await docker(['rm', '-f', 'szc']);
  });
  ok(
    await docker([
      'run',
      '--name',
      'szc',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      'head -c 5000 /dev/zero > /f',
    ]),
  );
  const imageSize = Number(ok(await docker(['image', 'inspect', '-f', '{{.Size}}', 'busybox'])).trim());
  assert.match(
    ok(await docker(['ps', '-a', '-s', '--filter', 'name=szc', '--format', '{{.Names}} {{.Size}}'])).trim(),
    /^szc 5kB \(virtual \d(\.\d+)?MB\)$/,
  );
  assert.equal(
    ok(await docker(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'szc'])).trim(),
    `5000 ${5000 + imageSize}`,
  );
  // Without -s Docker's inspect has neither field.
  const plain = JSON.parse(ok(await docker(['inspect', 'szc'])))[0] as Record<string, unknown>;
  assert.equal('SizeRw' in plain, false);
  const df = ok(await docker(['system', 'df', '--format', '{{.Type}} {{.Size}}']));
  assert.match(df, /^Containers 5kB$/m);
});

test('cp and network disconnect errors name the container as Docker does', async (t) => {
  t.after(async () => {
    await docker(['rm', '-f', 'cpn']);
    await docker(['network', 'rm', 'dn1']);
  });
  const id = ok(await docker(['create', '--name', 'cpn', '--network', 'none', 'busybox', 'true'])).trim();
  const cp = await docker(['cp', 'cpn:/nonexist', '/tmp/berth-cp-nonexist']);
  assert.equal(cp.code, 1);
  assert.match(
    cp.stderr,
    /^Error response from daemon: Could not find the file \/nonexist in container cpn$/m,
  );
  ok(await docker(['network', 'create', 'dn1']));
  const dis = await docker(['network', 'disconnect', 'dn1', 'cpn']);
  assert.equal(dis.code, 1);
  assert.match(
    dis.stderr,
    new RegExp(`^Error response from daemon: container ${id} is not connected to network dn1$`, 'm'),
  );
});

test('login and logout against the local berth registry: exit codes and texts as Docker', async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-login-'));
  await writeHtpasswd(path.join(dir, 'htpasswd'), { bob: 'pw1' });
  const reg = await serveRegistry(path.join(dir, 'root'), ['--htpasswd', path.join(dir, 'htpasswd')]);
  t.after(async () => {
    await reg.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  });
  const bad = await daemon.d.docker(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'nope' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Error response from daemon: .*(401|unauthorized)/im);
  const good = await daemon.d.docker(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'pw1' });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /^Login Succeeded$/m);
  for (let i = 0; i < 2; i++) {
    const out = await daemon.d.docker(['logout', reg.host]);
    assert.equal(out.code, 0);
    assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
  }
  const down = await daemon.d.docker(['login', '-u', 'bob', '--password-stdin', '127.0.0.1:1'], {
    input: 'pw1',
  });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^Error response from daemon: .*(refused|ECONNREFUSED)/m);
});
