// An image that arrived as OCI (skopeo pushes it with --format oci; Berth pulls it) is pushed
// back with OCI media types; an image Berth built or imported goes out as Docker schema 2.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

const daemon = useBusyboxDaemon();
let reg: TestRegistry;
let work = '';
before(async () => {
  reg = await startRegistry();
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-oci-'));
});
after(async () => {
  await reg?.stop();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

async function rawManifest(
  ref: string,
): Promise<{ mediaType: string; config: { mediaType: string }; layers: { mediaType: string }[] }> {
  return JSON.parse(ok(await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])));
}

describe('push keeps the image format', () => {
  test('OCI in, OCI out; Docker-built images push as Docker schema 2', async () => {
    const saved = path.join(work, 'bb.tar');
    ok(await daemon.d.berth(['save', '-o', saved, 'busybox']));
    const src = `${reg.host}/oci/src:1`;
    ok(
      await run('skopeo', [
        'copy',
        '--format',
        'oci',
        '--dest-tls-verify=false',
        `docker-archive:${saved}`,
        `docker://${src}`,
      ]),
    );
    assert.equal((await rawManifest(src)).mediaType, 'application/vnd.oci.image.manifest.v1+json');
    ok(await daemon.d.docker(['pull', src]));
    const dst = `${reg.host}/oci/dst:1`;
    ok(await daemon.d.docker(['tag', src, dst]));
    ok(await daemon.d.docker(['push', dst]));
    const m = await rawManifest(dst);
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(m.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.ok(m.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'));
    // The same image ID either way, and skopeo can copy it out again.
    const id = (r: string) => daemon.d.docker(['image', 'inspect', '-f', '{{.Id}}', r]);
    assert.equal(ok(await id(src)), ok(await id(dst)));
    ok(
      await run('skopeo', [
        'copy',
        '--src-tls-verify=false',
        `docker://${dst}`,
        `oci:${path.join(work, 'layout')}:x`,
      ]),
    );

    const docker = `${reg.host}/oci/docker:1`;
    ok(await daemon.d.docker(['tag', 'busybox', docker]));
    ok(await daemon.d.docker(['push', docker]));
    assert.equal(
      (await rawManifest(docker)).mediaType,
      'application/vnd.docker.distribution.manifest.v2+json',
    );
  });
});
