// docker cp's argument and destination rules as the berth CLI applies them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseOfCpPath, planCopy, splitCpArg } from '../../../src/cli/commands/container-fs.ts';

describe('splitCpArg', () => {
  it('splits ctr:path and leaves local paths alone', () => {
    assert.deepEqual(splitCpArg('web:/etc/hosts'), { container: 'web', path: '/etc/hosts' });
    assert.deepEqual(splitCpArg('/abs/a:b'), { path: '/abs/a:b' });
    assert.deepEqual(splitCpArg('./x:y'), { path: './x:y' });
    assert.deepEqual(splitCpArg('file'), { path: 'file' });
    assert.deepEqual(splitCpArg('-'), { path: '-' });
  });

  it('baseOfCpPath keeps . for dir/.', () => {
    assert.equal(baseOfCpPath('/tmp/tree/.'), '.');
    assert.equal(baseOfCpPath('/tmp/tree/'), 'tree');
    assert.equal(baseOfCpPath('/'), '/');
  });
});

describe('planCopy', () => {
  const dir = { isDir: true };
  const file = { isDir: false };
  it('into an existing directory: keep the names', () => {
    assert.deepEqual(planCopy(file, { path: '/d', exists: true, isDir: true }), { dir: '/d' });
  });
  it('over an existing file: a file replaces it, a directory cannot', () => {
    assert.deepEqual(planCopy(file, { path: '/d/f', exists: true, isDir: false }), {
      dir: '/d',
      rename: 'f',
    });
    assert.throws(
      () => planCopy(dir, { path: '/d/f', exists: true, isDir: false }),
      /cannot copy a directory to a file/,
    );
  });
  it('to a new path: created under that name; a new dir/ for a file is an error', () => {
    assert.deepEqual(planCopy(dir, { path: '/d/new', exists: false, isDir: false }), {
      dir: '/d',
      rename: 'new',
    });
    assert.deepEqual(planCopy(file, { path: '/d/new', exists: false, isDir: false }), {
      dir: '/d',
      rename: 'new',
    });
    assert.throws(() => planCopy(file, { path: '/d/new/', exists: false, isDir: false }), /does not exist/);
  });
});
