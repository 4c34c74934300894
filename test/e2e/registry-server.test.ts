// Berth's own registry server (berth-registry) on loopback: the docker CLI pushes and pulls
// through berthd, skopeo copies in and out, bad input gets the spec's error codes, htpasswd and
// token auth (a pull-only token cannot push), concurrent pushes of one layer, and gc.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fsp } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

const BIN = path.join(ROOT, 'bin/berth-registry');
let d: TestDaemon;
const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-breg-'));
const servers: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function serve(name: string, extra: string[] = []): Promise<{ host: string; root: string }> {
  const port = await freePort();
  const root = path.join(dir, name);
  const child = spawn(BIN, ['serve', '--root', root, '--addr', `127.0.0.1:${port}`, ...extra], {
    stdio: 'ignore',
  });
  servers.push(child);
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      () => true,
      () => false,
    );
    if (up) return { host: `127.0.0.1:${port}`, root };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('berth-registry did not start');
}

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let open: { host: string; root: string };

before(async () => {
  d = await startTestDaemon();
  ok(await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'local/bb:1']));
  open = await serve('open');
});
after(async () => {
  for (const s of servers) s.kill('SIGTERM');
  await d?.cleanup();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('berth-registry', () => {
  test('docker push and pull through berthd; skopeo copies in and out; tags and catalog', async () => {
    const ref = `${open.host}/team/bb:1`;
    ok(await d.docker(['tag', 'local/bb:1', ref]));
    assert.match(ok(await d.docker(['push', ref])), /1: digest: sha256:/);
    const id = ok(await d.docker(['inspect', '-f', '{{.Id}}', ref])).trim();
    ok(await d.docker(['rmi', ref]));
    ok(await d.docker(['pull', ref]));
    assert.equal(ok(await d.docker(['inspect', '-f', '{{.Id}}', ref])).trim(), id);
    // skopeo: registry → registry (OCI format) and registry → local OCI layout.
    ok(
      await run('skopeo', [
        'copy',
        '-q',
        '--format',
        'oci',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        `docker://${ref}`,
        `docker://${open.host}/copy/oci:2`,
      ]),
    );
    const info = JSON.parse(
      ok(await run('skopeo', ['inspect', '--tls-verify=false', `docker://${open.host}/copy/oci:2`])),
    ) as { Layers: string[] };
    assert.equal(info.Layers.length, 1);
    ok(
      await run('skopeo', [
        'copy',
        '-q',
        '--src-tls-verify=false',
        `docker://${open.host}/copy/oci:2`,
        `oci:${path.join(dir, 'layout')}:x`,
      ]),
    );
    const tags = (await (await fetch(`http://${open.host}/v2/team/bb/tags/list`)).json()) as {
      tags: string[];
    };
    assert.deepEqual(tags.tags, ['1']);
    const cat = (await (await fetch(`http://${open.host}/v2/_catalog?n=1`)).json()) as {
      repositories: string[];
    };
    assert.deepEqual(cat.repositories, ['copy/oci']);
    // Ranges on blobs (resumable pulls).
    const blob = `http://${open.host}/v2/copy/oci/blobs/${info.Layers[0]}`;
    const part = await fetch(blob, { headers: { Range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.equal((await part.arrayBuffer()).byteLength, 10);
  });

  test('search: docker search and berth search list matching repositories', async () => {
    const out = ok(await d.docker(['search', `${open.host}/team`]));
    assert.match(out, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\n/);
    assert.match(out, /^team\/bb\s/m);
    assert.equal(ok(await d.berth(['search', '--format', '{{.Name}}', `${open.host}/copy`])), 'copy/oci\n');
    // As docker: --limit 0 sends no limit (the daemon's default); above 100 the daemon refuses.
    const dflt = await d.berth(['search', '--limit', '0', `${open.host}/copy`]);
    assert.equal(dflt.code, 0, dflt.stderr);
    const over = await d.berth(['search', '--limit', '101', `${open.host}/x`]);
    assert.notEqual(over.code, 0);
    assert.match(over.stderr, /limit/i);
  });

  test('bad input gets the spec error codes', async () => {
    const base = `http://${open.host}/v2`;
    const code = async (r: Response) => ((await r.json()) as { errors: { code: string }[] }).errors[0]!.code;
    // Upload whose content does not match its digest.
    const wrong = await fetch(`${base}/x/blobs/uploads/?digest=${sha('other')}`, {
      method: 'POST',
      body: 'content',
    });
    assert.equal(wrong.status, 400);
    assert.equal(await code(wrong), 'DIGEST_INVALID');
    // Malformed and dangling manifests.
    const bad = await fetch(`${base}/x/manifests/t`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: '{not json',
    });
    assert.equal(await code(bad), 'MANIFEST_INVALID');
    const dangling = await fetch(`${base}/x/manifests/t`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { digest: sha('c'), size: 1 },
        layers: [],
      }),
    });
    assert.equal(await code(dangling), 'MANIFEST_BLOB_UNKNOWN');
    // Path tricks in names.
    for (const name of ['UPPER/x', 'a/../b', 'a//b', '-lead']) {
      const r = await fetch(`${base}/${name}/tags/list`);
      assert.ok(r.status === 400 || r.status === 404, `${name}: ${r.status}`);
      if (r.status === 400) assert.equal(await code(r), 'NAME_INVALID');
      else await r.arrayBuffer();
    }
    const huge = await fetch(`${base}/x/manifests/big`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: Buffer.alloc(5 << 20, 0x20),
    });
    assert.equal(huge.status, 413);
    assert.equal(await code(huge), 'SIZE_INVALID');
    const missing = await fetch(`${base}/x/manifests/nope`);
    assert.equal(await code(missing), 'MANIFEST_UNKNOWN');
  });

  test('two concurrent pushes of the same layer leave one intact blob', async () => {
    const refs = [`${open.host}/race/a:1`, `${open.host}/race/b:1`];
    for (const r of refs) ok(await d.docker(['tag', 'local/bb:1', r]));
    const results = await Promise.all(refs.map((r) => d.docker(['push', r])));
    for (const r of results) ok(r);
    for (const r of refs)
      ok(
        await run('skopeo', [
          'copy',
          '-q',
          '--src-tls-verify=false',
          `docker://${r}`,
          `oci:${path.join(dir, 'race')}:${r.split('/')[2]!.replace(':', '-')}`,
        ]),
      );
  });

  test('gc removes an orphan blob and keeps referenced ones', async () => {
    const orphan = Buffer.from(`orphan ${Date.now()}`);
    const put = await fetch(`http://${open.host}/v2/junk/blobs/uploads/?digest=${sha(orphan)}`, {
      method: 'POST',
      body: orphan,
    });
    assert.equal(put.status, 201);
    const out = execFileSync(BIN, ['gc', '--root', open.root, '--grace', '0']).toString();
    assert.match(out, new RegExp(`removed ${sha(orphan)}`));
    ok(await d.docker(['pull', `${open.host}/team/bb:1`]));
  });
});

describe('berth-registry auth', () => {
  test('htpasswd: anonymous refused, wrong password 401, login then push', async () => {
    const line = execFileSync('python3', [
      '-W',
      'ignore',
      '-c',
      "import crypt; print('bob:' + crypt.crypt('pw1', crypt.mksalt(crypt.METHOD_BLOWFISH)))",
    ]).toString();
    const htpasswd = path.join(dir, 'htpasswd');
    await fsp.writeFile(htpasswd, line);
    const reg = await serve('basic', ['--htpasswd', htpasswd]);
    assert.equal((await fetch(`http://${reg.host}/v2/`)).status, 401);
    const badLogin = await d.docker(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'nope' });
    assert.notEqual(badLogin.code, 0);
    ok(await d.docker(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'pw1' }));
    ok(await d.docker(['tag', 'local/bb:1', `${reg.host}/bob/bb:1`]));
    ok(await d.docker(['push', `${reg.host}/bob/bb:1`]));
  });

  test('token mode: scoped tokens; a pull-only user cannot push', async () => {
    const users = execFileSync('python3', [
      '-W',
      'ignore',
      '-c',
      "import crypt\nfor u in ('writer','reader'): print(u + ':' + crypt.crypt('pw', crypt.mksalt(crypt.METHOD_BLOWFISH)))",
    ]).toString();
    const htpasswd = path.join(dir, 'htpasswd-token');
    const secret = path.join(dir, 'secret');
    await fsp.writeFile(htpasswd, users);
    await fsp.writeFile(secret, 'a-test-signing-key-of-enough-length');
    const reg = await serve('token', [
      '--htpasswd',
      htpasswd,
      '--token-ttl',
      '12',
      '--token-secret',
      secret,
      '--acl',
      'writer:*:pull,push',
      '--acl',
      'reader:*:pull',
    ]);
    const challenge = (await fetch(`http://${reg.host}/v2/`)).headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token"/);
    const dockerCfg = { DOCKER_CONFIG: path.join(dir, 'cfg-writer') };
    ok(
      await d.docker(['login', '-u', 'writer', '--password-stdin', reg.host], {
        input: 'pw',
        env: dockerCfg,
      }),
    );
    ok(await d.docker(['tag', 'local/bb:1', `${reg.host}/shared/bb:1`]));
    ok(await d.docker(['push', `${reg.host}/shared/bb:1`], { env: dockerCfg }));
    const readerCfg = { DOCKER_CONFIG: path.join(dir, 'cfg-reader') };
    ok(
      await d.docker(['login', '-u', 'reader', '--password-stdin', reg.host], {
        input: 'pw',
        env: readerCfg,
      }),
    );
    ok(await d.docker(['rmi', `${reg.host}/shared/bb:1`]));
    ok(await d.docker(['pull', `${reg.host}/shared/bb:1`], { env: readerCfg }));
    ok(await d.docker(['tag', 'local/bb:1', `${reg.host}/shared/bb:2`]));
    // Tokens live 12 s here (berthd renews them 10 s early): after 3 s a pull needs a new one.
    await new Promise((r) => setTimeout(r, 3000));
    ok(await d.docker(['pull', `${reg.host}/shared/bb:1`], { env: readerCfg }));
    const denied = await d.docker(['push', `${reg.host}/shared/bb:2`], { env: readerCfg });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr + denied.stdout, /denied|unauthorized/i);
  });
});
