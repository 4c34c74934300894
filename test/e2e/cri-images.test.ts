// The CRI ImageService through a gRPC client: pulls from Berth's own registry on loopback (plain
// and behind htpasswd, with each form of AuthConfig), ImageStatus (absent = empty, verbose =
// containerd's JSON info), ListImages with a filter, RemoveImage (by ref, by ID, absent), and
// ImageFsInfo against `du`. Images pulled through the CRI are the Docker API's images too.
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type ServedRegistry, serveRegistry, writeHtpasswd } from '../helpers/berth-registry.ts';
import { type CriDaemon, startCriDaemon } from '../helpers/cri.ts';
import { run } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let cri: CriDaemon;
let plain: ServedRegistry;
let locked: ServedRegistry;
const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-cri-img-'));

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Pushes a local image through the Docker API, with credentials when the registry wants them. */
async function push(name: string, tag: string, auth?: { username: string; password: string }) {
  const header = Buffer.from(JSON.stringify(auth ?? {})).toString('base64url');
  const r = await cri.d.request('POST', `/images/${name}/push?tag=${tag}`, '', {
    'X-Registry-Auth': header,
  });
  assert.equal(r.status, 200, r.body.toString());
  assert.doesNotMatch(r.body.toString(), /"error"/, r.body.toString());
}

const grpcCode = (code: grpc.status) => (err: grpc.ServiceError) => {
  assert.equal(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
  return true;
};

before(async () => {
  cri = await startCriDaemon();
  await writeHtpasswd(path.join(dir, 'users'), { kube: 'let-me-in' });
  [plain, locked] = await Promise.all([
    serveRegistry(path.join(dir, 'plain')),
    serveRegistry(path.join(dir, 'locked'), ['--htpasswd', path.join(dir, 'users')]),
  ]);
  ok(await cri.d.berth(['import', '-c', 'USER 1234', busyboxTar(), 'local/bb:1']));
  for (const ref of [`${plain.host}/cri/busybox:1`, `${plain.host}/cri/busybox:latest`]) {
    ok(await cri.d.berth(['tag', 'local/bb:1', ref]));
    await push(ref.replace(/:[^:/]+$/, ''), ref.split(':').at(-1)!);
    ok(await cri.d.berth(['rmi', ref]));
  }
  ok(await cri.d.berth(['tag', 'local/bb:1', `${locked.host}/secret/busybox:2`]));
  await push(`${locked.host}/secret/busybox`, '2', { username: 'kube', password: 'let-me-in' });
  ok(await cri.d.berth(['rmi', `${locked.host}/secret/busybox:2`]));
});
after(async () => {
  await cri?.cleanup();
  await Promise.all([plain?.stop(), locked?.stop()]);
  await fsp.rm(dir, { recursive: true, force: true });
});

test('ListImages gives fully qualified names, size and the image user', async () => {
  const { images } = await cri.image('ListImages', {});
  const bb = images.find((i: { repo_tags: string[] }) => i.repo_tags.includes('docker.io/local/bb:1'));
  assert.ok(bb, JSON.stringify(images));
  assert.match(bb.id, /^sha256:[a-f0-9]{64}$/);
  assert.ok(bb.size > 0);
  assert.equal(bb.uid.value, 1234);
  assert.equal(bb.spec.image, bb.id);
});

test('PullImage from a loopback registry: the image ID, listed by docker images too', async () => {
  const ref = `${plain.host}/cri/busybox:1`;
  const { image_ref } = await cri.image('PullImage', { image: { image: ref } });
  assert.match(image_ref, /^sha256:[a-f0-9]{64}$/);
  const st = await cri.image('ImageStatus', { image: { image: ref } });
  assert.equal(st.image.id, image_ref);
  // The same content as local/bb:1, so the same image: both names.
  assert.deepEqual(st.image.repo_tags.sort(), [ref, 'docker.io/local/bb:1'].sort());
  assert.ok(
    st.image.repo_digests.some((d: string) => d.startsWith(`${plain.host}/cri/busybox@sha256:`)),
    st.image.repo_digests.join(' '),
  );
  const docker = ok(await cri.d.docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']));
  assert.match(docker, new RegExp(`${plain.host}/cri/busybox:1 ${image_ref.slice(7, 19)}`));
});

test('PullImage without a tag pulls latest (one tag, never all of them)', async () => {
  const { image_ref } = await cri.image('PullImage', { image: { image: `${plain.host}/cri/busybox` } });
  const st = await cri.image('ImageStatus', { image: { image: `${plain.host}/cri/busybox:latest` } });
  assert.equal(st.image.id, image_ref);
});

test('PullImage of a missing tag is NOT_FOUND; a bad reference INVALID_ARGUMENT naming the field', async () => {
  await assert.rejects(
    cri.image('PullImage', { image: { image: `${plain.host}/cri/busybox:nope` } }),
    grpcCode(grpc.status.NOT_FOUND),
  );
  await assert.rejects(
    cri.image('PullImage', { image: { image: 'UPPER/Case:x' } }),
    (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /image\.image/);
      return true;
    },
  );
  await assert.rejects(cri.image('PullImage', { image: {} }), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /image\.image: an image reference or ID is required/);
    return true;
  });
});

test('PullImage with auth: refused without it, accepted with user/password and with auth', async () => {
  const ref = `${locked.host}/secret/busybox:2`;
  await assert.rejects(cri.image('PullImage', { image: { image: ref } }), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.NOT_FOUND, err.details);
    assert.match(err.details, /pull access denied/);
    return true;
  });
  await assert.rejects(
    cri.image('PullImage', { image: { image: ref }, auth: { username: 'kube', password: 'wrong' } }),
    (err: grpc.ServiceError) => err.code !== grpc.status.OK,
  );
  assert.deepEqual((await cri.image('ImageStatus', { image: { image: ref } })).image, null);
  const a = await cri.image('PullImage', {
    image: { image: ref },
    auth: { username: 'kube', password: 'let-me-in', server_address: locked.host },
  });
  await cri.image('RemoveImage', { image: { image: ref } });
  const b = await cri.image('PullImage', {
    image: { image: ref },
    auth: { auth: Buffer.from('kube:let-me-in').toString('base64') },
  });
  assert.equal(a.image_ref, b.image_ref);
  assert.equal((await cri.image('ImageStatus', { image: { image: ref } })).image.id, b.image_ref);
});

test('ImageStatus: by ID and ID prefix; absent is an empty answer; verbose gives the config', async () => {
  const { image_ref } = await cri.image('PullImage', { image: { image: `${plain.host}/cri/busybox:1` } });
  for (const spec of [image_ref, image_ref.slice(7), image_ref.slice(7, 19)]) {
    const st = await cri.image('ImageStatus', { image: { image: spec } });
    assert.equal(st.image?.id, image_ref, spec);
    assert.deepEqual(st.info, {});
  }
  const absent = await cri.image('ImageStatus', { image: { image: `${plain.host}/cri/never:1` } });
  assert.equal(absent.image, null);
  const v = await cri.image('ImageStatus', { image: { image: image_ref }, verbose: true });
  const info = JSON.parse(v.info.info);
  assert.match(info.chainID, /^sha256:[a-f0-9]{64}$/);
  assert.equal(info.imageSpec.config.User, '1234');
  assert.equal(info.imageSpec.rootfs.type, 'layers');
});

test('ListImages with a filter: the one image, or none', async () => {
  const ref = `${plain.host}/cri/busybox:1`;
  await cri.image('PullImage', { image: { image: ref } });
  const one = await cri.image('ListImages', { filter: { image: { image: ref } } });
  assert.equal(one.images.length, 1);
  assert.ok(one.images[0].repo_tags.includes(ref));
  const none = await cri.image('ListImages', { filter: { image: { image: `${plain.host}/nothing:1` } } });
  assert.deepEqual(none.images, []);
});

test('RemoveImage by tag removes the image with all its names; by ID; absent succeeds', async () => {
  const ref = `${plain.host}/cri/busybox:1`;
  const { image_ref } = await cri.image('PullImage', { image: { image: ref } });
  await cri.image('PullImage', { image: { image: `${plain.host}/cri/busybox:latest` } });
  // The pulled image is local/bb:1's too (same content): a copy under a name of its own.
  ok(await cri.d.berth(['tag', ref, 'doomed/copy:1']));
  await cri.image('RemoveImage', { image: { image: ref } });
  assert.equal((await cri.image('ImageStatus', { image: { image: image_ref } })).image, null);
  const names = ok(await cri.d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']));
  assert.doesNotMatch(names, /cri\/busybox|doomed\/copy/);
  await cri.image('RemoveImage', { image: { image: ref } });
  await cri.image('RemoveImage', { image: { image: image_ref } });
  const again = await cri.image('PullImage', { image: { image: ref } });
  await cri.image('RemoveImage', { image: { image: again.image_ref } });
  assert.equal((await cri.image('ImageStatus', { image: { image: ref } })).image, null);
});

test('ImageFsInfo: the layer store, with the bytes and inodes du counts there', async () => {
  const { image_filesystems } = await cri.image('ImageFsInfo', {});
  assert.equal(image_filesystems.length, 1);
  const fs = image_filesystems[0];
  const layers = path.join(cri.d.dataRoot, 'layers');
  const blobs = path.join(cri.d.dataRoot, 'blobs');
  assert.equal(fs.fs_id.mountpoint, layers);
  const bytes = Number(
    ok(await run('du', ['-s', '-B1', '-c', layers, blobs]))
      .trim()
      .split('\n')
      .at(-1)!
      .split('\t')[0],
  );
  const inodes = Number(
    ok(await run('du', ['-s', '--inodes', '-c', layers, blobs]))
      .trim()
      .split('\n')
      .at(-1)!
      .split('\t')[0],
  );
  assert.equal(fs.used_bytes.value, bytes);
  assert.equal(fs.inodes_used.value, inodes);
  assert.ok(fs.timestamp > 0);
});
