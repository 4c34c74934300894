// The -v / Binds and Mount parsers, volume names and local driver options (Docker's rules).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planMounts } from '../../../src/containers/mounts.ts';
import type { ContainerRecord } from '../../../src/containers/record.ts';
import { NotFoundError } from '../../../src/errdefs/index.ts';
import {
  checkDriverOpts,
  checkVolumeName,
  parseApiMount,
  parseBind,
  parseVolumesFrom,
} from '../../../src/volumes/index.ts';

const invalid = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: Error & { kind?: string }) => e.kind === 'invalid-argument' && re.test(e.message));

test("volume names: one safe path component, Docker's character set", () => {
  for (const ok of ['data', 'a1', 'my_vol.v-2', 'A.b']) checkVolumeName(ok);
  for (const bad of ['a/b', '..', '.', '../x', 'x/../y', '.hidden', '-x', 'a', '', 'a b', 'a:b', '/abs'])
    invalid(() => checkVolumeName(bad), /invalid characters for a local volume name/);
});

test('-v name:/path[:mode] is a volume; Docker shows mode "z" when none is given', () => {
  assert.deepEqual(parseBind('data:/srv/data'), {
    type: 'volume',
    source: 'data',
    target: '/srv/data',
    readOnly: false,
    noCopy: false,
    mode: 'z',
    fromBind: true,
  });
  const ro = parseBind('data:/d:ro,nocopy');
  assert.equal(ro.type, 'volume');
  assert.equal(ro.readOnly, true);
  assert.equal(ro.type === 'volume' && ro.noCopy, true);
  assert.equal(ro.type === 'volume' && ro.mode, 'ro,nocopy');
  // A bare path is an anonymous volume; trailing slashes and dots are cleaned.
  assert.deepEqual(parseBind('/cache/./x/'), {
    type: 'volume',
    source: '',
    target: '/cache/x',
    readOnly: false,
    noCopy: false,
    mode: 'z',
    fromBind: true,
  });
});

test('-v /host:/path[:ro][:z][:propagation] is a bind that -v may create', () => {
  assert.deepEqual(parseBind('/host/dir:/in:ro,Z,rshared'), {
    type: 'bind',
    source: '/host/dir',
    target: '/in',
    readOnly: true,
    propagation: 'rshared',
    recursive: true,
    createSource: true,
    mode: 'ro,Z,rshared',
    fromBind: true,
  });
  const plain = parseBind('/h:/c');
  assert.equal(plain.type === 'bind' && plain.propagation, 'rprivate');
});

test('bad -v specs are 400s that say what is wrong', () => {
  invalid(() => parseBind('/c:rw'), /invalid volume specification/);
  invalid(() => parseBind('a:b:c:d'), /invalid volume specification/);
  invalid(() => parseBind('data:relative'), /must be absolute/);
  invalid(() => parseBind('data:/'), /destination can't be '\/'/);
  invalid(() => parseBind('data:/x:ro,rw'), /invalid mode/);
  invalid(() => parseBind('data:/x:bogus'), /invalid mode: bogus/);
  invalid(() => parseBind('/h:/x:nocopy'), /nocopy applies to volumes/);
  invalid(() => parseBind('data:/x:shared'), /propagation applies to bind mounts/);
  invalid(() => parseBind('a/b:/x'), /invalid characters/);
  invalid(() => parseBind('..:/x'), /invalid characters/);
});

test('Mount objects follow validateMountConfig', () => {
  assert.deepEqual(parseApiMount({ Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true }), {
    type: 'bind',
    source: '/h',
    target: '/c',
    readOnly: true,
    propagation: 'rprivate',
    recursive: true,
    createSource: false,
    mode: '',
    fromBind: false,
  });
  const v = parseApiMount({
    Type: 'volume',
    Source: 'v1',
    Target: '/d',
    VolumeOptions: {
      NoCopy: true,
      Labels: { a: 'b' },
      DriverConfig: { Name: 'local', Options: { type: 'tmpfs' } },
    },
  });
  assert.equal(v.type === 'volume' && v.noCopy, true);
  assert.deepEqual(v.type === 'volume' && v.labels, { a: 'b' });
  assert.deepEqual(v.type === 'volume' && v.driverOpts, { type: 'tmpfs' });
  assert.deepEqual(
    parseApiMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024, Mode: 0o1777 } }),
    {
      type: 'tmpfs',
      target: '/t',
      readOnly: false,
      sizeBytes: 1024,
      mode: 0o1777,
    },
  );
  invalid(() => parseApiMount({ Type: 'bind', Target: '/c' }), /field Source must not be empty/);
  invalid(() => parseApiMount({ Type: 'bind', Source: 'rel', Target: '/c' }), /must be absolute/);
  invalid(() => parseApiMount({ Type: 'bind', Source: '/h' }), /field Target must not be empty/);
  invalid(
    () => parseApiMount({ Type: 'tmpfs', Source: 'x', Target: '/c' }),
    /field Source must not be specified/,
  );
  invalid(
    () => parseApiMount({ Type: 'volume', Target: '/c', BindOptions: {} }),
    /BindOptions must not be specified/,
  );
  invalid(() => parseApiMount({ Type: 'nfs', Target: '/c' }), /mount type unknown/);
  invalid(() => parseApiMount({ Type: 'volume', Source: '../x', Target: '/c' }), /invalid characters/);
  invalid(
    () => parseApiMount({ Type: 'bind', Source: '/h', Target: '/c', BindOptions: { Propagation: 'weird' } }),
    /invalid propagation mode/,
  );
  invalid(
    () =>
      parseApiMount({
        Type: 'volume',
        Target: '/c',
        VolumeOptions: { DriverConfig: { Name: 'nfs-plugin' } },
      }),
    /only the local driver/,
  );
});

test('--volumes-from container[:ro|rw]', () => {
  assert.deepEqual(parseVolumesFrom('store'), { container: 'store', mode: '' });
  assert.deepEqual(parseVolumesFrom('store:ro'), { container: 'store', mode: 'ro' });
  invalid(() => parseVolumesFrom('store:zz'), /use ro or rw/);
});

test('local driver options: type, device and o only, with type and device together', () => {
  checkDriverOpts({});
  checkDriverOpts({ type: 'tmpfs', device: 'tmpfs', o: 'size=10m' });
  checkDriverOpts({ type: 'none', device: '/srv/x', o: 'bind' });
  invalid(() => checkDriverOpts({ foo: 'bar' }), /invalid option key: "foo"/);
  invalid(() => checkDriverOpts({ type: 'tmpfs' }), /missing required option: "device"/);
  invalid(() => checkDriverOpts({ type: 'none', device: '/x' }), /type=none needs o=bind/);
  invalid(() => checkDriverOpts({ type: 'none', device: 'rel', o: 'bind' }), /absolute host path/);
});

test('mount planning: volumes-from, then binds, then Mounts; VOLUME paths fill the gaps', () => {
  const source = {
    id: 'c1',
    mounts: [
      {
        Type: 'volume',
        Name: 'v',
        Source: '/x',
        Destination: '/shared',
        Mode: '',
        RW: true,
        Propagation: '',
      },
      { Type: 'volume', Name: 'w', Source: '/y', Destination: '/other', Mode: '', RW: true, Propagation: '' },
    ],
  } as unknown as ContainerRecord;
  const find = (ref: string) => {
    if (ref === 'c1') return source;
    throw new NotFoundError('CONTAINER_NOT_FOUND', `No such container: ${ref}`);
  };
  const plan = planMounts(
    {
      VolumesFrom: ['c1:ro'],
      Binds: ['/h:/other'],
      Mounts: [{ Type: 'tmpfs', Target: '/t' }],
      Tmpfs: { '/run': '' },
    },
    ['/shared', '/run', '/data'],
    find,
  );
  assert.deepEqual([...plan.keys()].sort(), ['/data', '/other', '/shared', '/t']);
  const shared = plan.get('/shared')!;
  assert.equal(shared.kind === 'copy' && shared.mp.RW, false);
  const other = plan.get('/other')!;
  assert.equal(other.kind === 'request' && other.req.type, 'bind');
  const data = plan.get('/data')!;
  assert.equal(data.kind === 'request' && data.req.type === 'volume' && data.req.source, '');
  invalid(
    () => planMounts({ Binds: ['ab:/x'], Mounts: [{ Type: 'tmpfs', Target: '/x' }] }, [], find),
    /Duplicate mount point: \/x/,
  );
  invalid(() => planMounts({ Binds: ['ab:/x'], Tmpfs: { '/x': '' } }, [], find), /Duplicate mount point/);
  assert.throws(() => planMounts({ VolumesFrom: ['nope'] }, [], find), /No such container: nope/);
  invalid(
    () => planMounts({ Binds: 'ab:/x' as unknown as string[] }, [], find),
    /expected a list of strings/,
  );
});
