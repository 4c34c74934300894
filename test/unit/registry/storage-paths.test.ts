// Storage paths made from repository names, tags and digests stay inside their stores even
// when a caller skipped its own checks (issue 14 §1: defence in depth below the handlers).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LocalContentStore } from '../../../src/content/index.ts';
import type { Digest } from '../../../src/oci/digest.ts';
import { type Digest as RegDigest, RegistryStorage } from '../../../src/registry/server/storage.ts';

const HEX = 'a'.repeat(64);

describe('storage paths from names and digests', () => {
  it('the registry store refuses names, tags and digests that are not plain components', async (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-reg-'));
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const st = new RegistryStorage(root);
    for (const d of [
      'sha256:../../../../etc/passwd',
      `sha256:${HEX}/../x`,
      'sha512:abc',
      `sha256:${HEX.toUpperCase()}`,
    ]) {
      assert.throws(() => st.blobPath(d as RegDigest), /invalid digest/);
    }
    for (const name of ['../x', 'a/../../b', '/abs', 'a//b', 'A']) {
      await assert.rejects(st.tags(name), /invalid repository name/);
      await assert.rejects(st.linkBlob(name, `sha256:${HEX}`), /invalid repository name/);
    }
    await assert.rejects(st.resolveManifest('ok', '../../../../tmp/x'), /invalid path component/);
    assert.ok(st.blobPath(`sha256:${HEX}`).startsWith(root));
  });

  it('the local content store refuses a digest that is not sha256 hex', async (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cs-'));
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const cs = await LocalContentStore.open(root);
    assert.throws(() => cs.blobPath('sha256:../../../etc/shadow' as Digest), /invalid digest/);
    assert.equal(cs.blobPath(`sha256:${HEX}` as Digest), path.join(root, 'sha256', HEX));
  });
});
