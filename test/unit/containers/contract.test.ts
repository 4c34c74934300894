// Pure parts of the docker-py container contract: which mount a cp path lives in, the legacy
// link environment, and Config.Env at create.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { locateInMounts } from '../../../src/containers/archive.ts';
import { createEnv } from '../../../src/containers/env.ts';
import { linkEnv, parseLink } from '../../../src/containers/links.ts';

const vol = (Destination: string, Source: string, Type: 'volume' | 'bind' | 'tmpfs' = 'volume') => ({
  Type,
  Source,
  Destination,
  RW: true,
});

describe('locateInMounts', () => {
  const fs = {
    rootfs: '/r',
    mounts: [
      vol('/data', '/v/a'),
      vol('/data/inner', '/v/b', 'bind'),
      vol('/tmp', '', 'tmpfs'),
      vol('/x/', '/v/x'),
    ],
  };
  it('picks the innermost mount containing the path, keeping cp suffixes', () => {
    assert.deepEqual(locateInMounts(fs, '/data/f'), {
      root: '/v/a',
      inner: '/f',
      base: '/data',
      mount: fs.mounts[0],
    });
    assert.equal(locateInMounts(fs, '/data/inner/g').root, '/v/b');
    assert.equal(locateInMounts(fs, '/data/inner/g').inner, '/g');
    assert.equal(locateInMounts(fs, '/data').inner, '/');
    assert.equal(locateInMounts(fs, '/data/').inner, '/');
    assert.equal(locateInMounts(fs, '/data/.').inner, '/.');
    assert.equal(locateInMounts(fs, '/x/y').root, '/v/x'); // a destination written with a trailing /
  });
  it('leaves other paths, look-alike prefixes and tmpfs on the rootfs', () => {
    assert.deepEqual(locateInMounts(fs, '/database/f'), { root: '/r', inner: '/database/f', base: '' });
    assert.equal(locateInMounts(fs, '/tmp/f').root, '/r');
    assert.equal(locateInMounts(fs, '/').root, '/r');
    assert.equal(locateInMounts({ rootfs: '/r' }, '/data/f').root, '/r');
  });
});

describe('legacy links', () => {
  it('parses the client and the stored forms', () => {
    assert.deepEqual(parseLink('db:mydb'), { name: 'db', alias: 'mydb' });
    assert.deepEqual(parseLink('/db:/web/mydb'), { name: 'db', alias: 'mydb' });
    assert.deepEqual(parseLink('db'), { name: 'db', alias: 'db' });
  });
  it("gives Docker's variables: default port, each port, a range, the name, the target's env", () => {
    const env = linkEnv({
      parentName: 'web',
      alias: 'my-db',
      ip: '10.0.0.2',
      exposed: { '5433/tcp': {}, '5432/tcp': {}, '53/udp': {} },
      env: ['PATH=/bin', 'HOME=/root', 'FOO=1', 'EQ=a=b', 'NOVALUE'],
    });
    assert.deepEqual(env, [
      'MY_DB_PORT=udp://10.0.0.2:53',
      'MY_DB_PORT_5432_TCP_START=tcp://10.0.0.2:5432',
      'MY_DB_PORT_5432_TCP_PORT_START=5432',
      'MY_DB_PORT_5432_TCP_PORT_END=5433',
      'MY_DB_PORT_5432_TCP_END=tcp://10.0.0.2:5433',
      'MY_DB_PORT_53_UDP=udp://10.0.0.2:53',
      'MY_DB_PORT_53_UDP_ADDR=10.0.0.2',
      'MY_DB_PORT_53_UDP_PORT=53',
      'MY_DB_PORT_53_UDP_PROTO=udp',
      'MY_DB_PORT_5432_TCP=tcp://10.0.0.2:5432',
      'MY_DB_PORT_5432_TCP_ADDR=10.0.0.2',
      'MY_DB_PORT_5432_TCP_PORT=5432',
      'MY_DB_PORT_5432_TCP_PROTO=tcp',
      'MY_DB_PORT_5433_TCP=tcp://10.0.0.2:5433',
      'MY_DB_PORT_5433_TCP_ADDR=10.0.0.2',
      'MY_DB_PORT_5433_TCP_PORT=5433',
      'MY_DB_PORT_5433_TCP_PROTO=tcp',
      'MY_DB_NAME=/web/my-db',
      'MY_DB_ENV_FOO=1',
      'MY_DB_ENV_EQ=a=b',
    ]);
  });
  it('prefers tcp for the default port on the same number', () => {
    const env = linkEnv({
      parentName: 'p',
      alias: 'a',
      ip: '1.2.3.4',
      exposed: { '80/udp': {}, '80/tcp': {} },
    });
    assert.equal(env[0], 'A_PORT=tcp://1.2.3.4:80');
  });
});

describe('createEnv', () => {
  it('overrides image entries by name in place, appends new names, keeps entries without =', () => {
    assert.deepEqual(createEnv(['PATH=/bin', 'Foo=img', 'A=1'], ['Foo', 'B=2', 'A=3', 'Blank=']), [
      'PATH=/bin',
      'Foo',
      'A=3',
      'B=2',
      'Blank=',
    ]);
  });
});
