// The berth CLI's --mount and -v flags become the create body the docker CLI would send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMountFlag, splitCsv, volumeBody } from '../../../src/cli/commands/volumes.ts';

test('--mount keys and aliases map to the API Mount object', () => {
  assert.deepEqual(parseMountFlag('type=bind,src=/h,dst=/c,readonly,bind-propagation=rslave'), {
    Type: 'bind',
    Source: '/h',
    Target: '/c',
    ReadOnly: true,
    BindOptions: { Propagation: 'rslave' },
  });
  assert.deepEqual(
    parseMountFlag('source=v,target=/d,volume-nocopy,volume-label=a=b,volume-opt=type=tmpfs'),
    {
      Type: 'volume',
      Source: 'v',
      Target: '/d',
      VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Options: { type: 'tmpfs' } } },
    },
  );
  assert.deepEqual(parseMountFlag('type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770,ro=false'), {
    Type: 'tmpfs',
    Target: '/t',
    ReadOnly: false,
    TmpfsOptions: { SizeBytes: 64 << 20, Mode: 0o1770 },
  });
  // Quoted CSV fields may hold commas.
  assert.deepEqual(splitCsv('type=volume,"volume-opt=o=size=1m,uid=1000",target=/x'), [
    'type=volume',
    'volume-opt=o=size=1m,uid=1000',
    'target=/x',
  ]);
  assert.deepEqual(parseMountFlag('"volume-opt=o=a,b",target=/x').VolumeOptions, {
    DriverConfig: { Options: { o: 'a,b' } },
  });
});

test('bad --mount values are usage errors (exit 125) naming the problem', () => {
  const bad = (spec: string, re: RegExp) =>
    assert.throws(
      () => parseMountFlag(spec),
      (e: Error & { exitCode?: number }) => e.exitCode === 125 && re.test(e.message),
    );
  bad('type=bind,source=/h', /target is required/);
  bad('type=bind,source=/h,target=/c,volume-nocopy', /cannot mix 'volume-\*' options with mount type 'bind'/);
  bad('type=volume,target=/c,tmpfs-size=1m', /cannot mix 'tmpfs-\*'/);
  bad('target=/c,colour=blue', /unexpected key 'colour'/);
  bad('target=/c,readonly=maybe', /invalid value for readonly/);
  bad('type=tmpfs,target=/c,tmpfs-mode=999', /tmpfs-mode/);
  bad('target=/c,source', /must be a key=value pair/);
  bad('"target=/c', /unterminated quote/);
});

test('-v: a bare path is Config.Volumes, anything else Binds; --volumes-from passes through', () => {
  const b = volumeBody({ volume: ['/anon', 'data:/d:ro', '/h:/c'], mount: [], volumesFrom: ['store:ro'] });
  assert.deepEqual(b.config, { Volumes: { '/anon': {} } });
  assert.deepEqual(b.hostConfig, { Binds: ['data:/d:ro', '/h:/c'], VolumesFrom: ['store:ro'] });
  const rel = volumeBody({ volume: ['./sub:/x'], mount: [], volumesFrom: [] });
  assert.deepEqual(rel.hostConfig.Binds, [`${process.cwd()}/sub:/x`]);
  assert.deepEqual(volumeBody({ volume: [], mount: [], volumesFrom: [] }), { config: {}, hostConfig: {} });
});
