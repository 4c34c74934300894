// The note that explains a COPY/ADD source not found because of a symlink.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { missingSourceNote } from '../../../src/build/context/missing.ts';

describe('missingSourceNote', () => {
  it('names the first link on the way and where it leads inside the root', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-missing-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'abs'));
    fs.symlinkSync('../../../x', path.join(dir, 'sub/up'));
    fs.symlinkSync('/etc', path.join(dir, 'etc_link'));
    fs.symlinkSync('loop', path.join(dir, 'loop'));
    assert.equal(
      missingSourceNote(dir, 'abs'),
      ' ("abs" is a symbolic link to "/etc/passwd"; links are followed inside the build context, which acts as "/" for them, and "/etc/passwd" does not exist there)',
    );
    assert.match(
      missingSourceNote(dir, './sub/up'),
      /^ \("sub\/up" is a symbolic link to "\.\.\/\.\.\/\.\.\/x";.*"\/x" does not exist/,
    );
    assert.match(
      missingSourceNote(dir, 'etc_link/shadow', 'the filesystem of a'),
      /"etc_link" .* inside the filesystem of a, .*"\/etc\/shadow" does not exist/,
    );
    // No link involved, wildcards, the root, a loop: nothing to add.
    for (const src of ['nope', 'sub/nope', 'a*', '.', 'loop'])
      assert.equal(missingSourceNote(dir, src), '', src);
  });
});
