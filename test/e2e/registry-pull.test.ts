// Pulling from a real registry (Debian's docker-registry on loopback), seeded by skopeo from a
// `berth save` archive: docker pull and berth pull by tag and digest, Docker and OCI manifests,
// image IDs and RepoDigests as the registry has them, and failures that leave nothing behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';
import { dockerLegacyArchive, makeTar } from '../helpers/tarballs.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

let d: TestDaemon;
let reg: TestRegistry;

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function rawManifest(repoTag: string): Promise<{ digest: string; config: string; layers: string[] }> {
  const r = ok(
    await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${repoTag}`]),
  );
  const m = JSON.parse(r) as { config: { digest: string }; layers: { digest: string }[] };
  const digest = `sha256:${createHash('sha256').update(r).digest('hex')}`;
  return { digest, config: m.config.digest, layers: m.layers.map((l) => l.digest) };
}

before(async () => {
  reg = await startRegistry();
  // The registry doubles as a docker.io mirror, so `docker pull busybox` stays on loopback.
  d = await startTestDaemon({ config: { 'registry-mirrors': [`http://${reg.host}`] } });
  ok(await d.berth(['import', '-c', 'CMD ["sh"]', '-c', 'LABEL pulled=yes', busyboxTar(), 'seed:1']));
  const archive = path.join(d.dir, 'seed.tar');
  ok(await d.berth(['save', '-o', archive, 'seed:1']));
  ok(
    await run('skopeo', [
      'copy',
      '-q',
      '--dest-tls-verify=false',
      `docker-archive:${archive}`,
      `docker://${reg.host}/test/busybox:v1`,
    ]),
  );
  ok(
    await run('skopeo', [
      'copy',
      '-q',
      '--format',
      'oci',
      '--dest-tls-verify=false',
      `docker-archive:${archive}`,
      `docker://${reg.host}/test/oci:v1`,
    ]),
  );
  ok(
    await run('skopeo', [
      'copy',
      '-q',
      '--dest-tls-verify=false',
      `docker-archive:${archive}`,
      `docker://${reg.host}/library/busybox:mirrored`,
    ]),
  );
  // Start from an empty store: every layer must come from the registry.
  ok(await d.berth(['rmi', 'seed:1']));
});
after(async () => {
  await d?.cleanup();
  await reg?.stop();
});

describe('pull', () => {
  test('docker pull by tag: layers downloaded, image ID and RepoDigests as the registry has them', async () => {
    const want = await rawManifest('test/busybox:v1');
    const out = ok(await d.docker(['pull', `${reg.host}/test/busybox:v1`]));
    assert.match(out, /v1: Pulling from test\/busybox/);
    assert.match(out, /Pull complete/);
    assert.match(out, new RegExp(`Digest: ${want.digest}`));
    assert.match(out, /Status: Downloaded newer image/);
    const id = ok(await d.docker(['inspect', '-f', '{{.Id}}', `${reg.host}/test/busybox:v1`])).trim();
    assert.equal(id, want.config);
    const digests = ok(
      await d.docker(['inspect', '-f', '{{json .RepoDigests}}', `${reg.host}/test/busybox:v1`]),
    );
    assert.deepEqual(JSON.parse(digests), [`${reg.host}/test/busybox@${want.digest}`]);
    assert.equal(
      ok(await d.docker(['run', '--rm', `${reg.host}/test/busybox:v1`, 'echo', 'from-registry'])),
      'from-registry\n',
    );
    const again = ok(await d.docker(['pull', `${reg.host}/test/busybox:v1`]));
    assert.match(again, /Status: Image is up to date/);
  });

  test('docker.io names are pulled from registry-mirrors first', async () => {
    const out = ok(await d.docker(['pull', 'busybox:mirrored']));
    assert.match(out, /Status: Downloaded newer image for busybox:mirrored/);
    assert.equal(
      ok(await d.docker(['run', '--rm', 'busybox:mirrored', 'echo', 'via-mirror'])),
      'via-mirror\n',
    );
    ok(await d.docker(['rmi', 'busybox:mirrored']));
  });

  test('an OCI manifest pulls too, and by digest', async () => {
    const want = await rawManifest('test/oci:v1');
    ok(await d.docker(['pull', `${reg.host}/test/oci@${want.digest}`]));
    const id = ok(await d.docker(['inspect', '-f', '{{.Id}}', `${reg.host}/test/oci@${want.digest}`])).trim();
    assert.equal(id, want.config);
    assert.equal(ok(await d.docker(['run', '--rm', id, 'cat', '/etc/hostname'])).length > 0, true);
  });

  test('berth pull shows progress and the reference; -q only the reference', async () => {
    await d.berth(['rmi', '-f', `${reg.host}/test/busybox:v1`]);
    const out = ok(await d.berth(['pull', `${reg.host}/test/busybox:v1`]));
    assert.match(out, /Pulling from test\/busybox/);
    assert.match(out, new RegExp(`${reg.host.replace(/\./g, '\\.')}/test/busybox:v1\\n$`));
    const q = ok(await d.berth(['pull', '-q', `${reg.host}/test/busybox`.concat(':v1')]));
    assert.equal(q, `${reg.host}/test/busybox:v1\n`);
    // run pulls a missing image first, as the docker CLI does; a failed pull is exit 125.
    ok(await d.berth(['rmi', `${reg.host}/test/busybox:v1`]));
    const r = await d.berth(['run', '--rm', `${reg.host}/test/busybox:v1`, 'echo', 'auto']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'auto\n');
    assert.match(r.stderr, /Unable to find image/);
    const missing = await d.berth(['run', '--rm', `${reg.host}/test/none:1`, 'true']);
    assert.equal(missing.code, 125);
  });

  test('missing image, unreachable registry, bad reference: clear errors, nothing created', async () => {
    const before = ok(await d.docker(['images', '-q', '-a']));
    const missing = await d.docker(['pull', `${reg.host}/test/nothere:v9`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /manifest for .*test\/nothere:v9 not found/);
    const down = await d.berth(['pull', '127.0.0.1:1/x:y']);
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /cannot reach the registry 127\.0\.0\.1:1/);
    const bad = await d.docker(['pull', 'UPPER/case']);
    assert.notEqual(bad.code, 0);
    assert.equal(ok(await d.docker(['images', '-q', '-a'])), before);
  });

  test('a blob with the wrong content is rejected by digest and nothing is tagged', async () => {
    const want = await rawManifest('test/busybox:v1');
    for (const ref of ok(await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']))
      .trim()
      .split('\n')) {
      if (ref) await d.docker(['rmi', '-f', ref]);
    }
    for (const ref of ok(await d.docker(['images', '-q']))
      .trim()
      .split('\n'))
      if (ref) await d.docker(['rmi', '-f', ref]);
    const blob = reg.blobPath(want.layers[0]!);
    const original = await fsp.readFile(blob);
    const corrupt = Buffer.from(original);
    corrupt[corrupt.length - 20] = corrupt[corrupt.length - 20]! ^ 0xff;
    await fsp.writeFile(blob, corrupt);
    try {
      const r = await d.docker(['pull', `${reg.host}/test/busybox:v1`]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr + r.stdout, /failed verification|does not match|digest/i);
      // An error inside the progress stream is printed bare by both CLIs (no "Error response
      // from daemon:" prefix), with the same exit code.
      const b = await d.berth(['pull', `${reg.host}/test/busybox:v1`]);
      assert.equal(b.code, r.code, b.stderr);
      assert.doesNotMatch(r.stderr, /Error response from daemon/);
      assert.equal(b.stderr, r.stderr);
      const quiet = await d.berth(['pull', '-q', `${reg.host}/test/busybox:v1`]);
      assert.equal(quiet.stderr, r.stderr);
      assert.equal((await d.docker(['images', '-q', `${reg.host}/test/busybox:v1`])).stdout, '');
    } finally {
      await fsp.writeFile(blob, original);
    }
    // The retry after the fault completes, and the fault never reached berthd's safety net.
    ok(await d.docker(['pull', `${reg.host}/test/busybox:v1`]));
    assert.doesNotMatch(d.logs(), /uncaught exception|unhandled promise rejection/);
  });
});

describe('pull faults', () => {
  test('a layer that fails mid-pull fails the pull; the retry reuses the layers that finished', async () => {
    // A two-layer image: busybox, then a layer with one file.
    const extra = await makeTar([{ name: 'second.txt', body: 'second layer\n' }]);
    const base = await fsp.readFile(busyboxTar());
    const { tar } = await dockerLegacyArchive([{ layers: [base, extra], repoTags: ['two:1'], cmd: ['sh'] }]);
    const archive = path.join(d.dir, 'two.tar');
    await fsp.writeFile(archive, tar);
    ok(
      await run('skopeo', [
        'copy',
        '-q',
        '--dest-tls-verify=false',
        `docker-archive:${archive}`,
        `docker://${reg.host}/test/two:1`,
      ]),
    );
    const want = await rawManifest('test/two:1');
    const blob = reg.blobPath(want.layers[1]!);
    const saved = await fsp.readFile(blob);
    await fsp.rm(blob);
    try {
      const r = await d.docker(['pull', `${reg.host}/test/two:1`]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.equal((await d.docker(['images', '-q', `${reg.host}/test/two:1`])).stdout, '');
    } finally {
      await fsp.mkdir(path.dirname(blob), { recursive: true });
      await fsp.writeFile(blob, saved);
    }
    const again = ok(await d.docker(['pull', `${reg.host}/test/two:1`]));
    assert.match(again, new RegExp(`${want.layers[0]!.slice(7, 19)}: Already exists`));
    assert.match(again, new RegExp(`${want.layers[1]!.slice(7, 19)}: Pull complete`));
    assert.equal(
      ok(await d.docker(['run', '--rm', `${reg.host}/test/two:1`, 'cat', '/second.txt'])),
      'second layer\n',
    );
  });
});
