import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandLine, parseHost } from '../../../src/daemon/config.ts';
const NO_TLS = { tls: false, tlsVerify: false };

const noFile = () => {
  throw Object.assign(new Error('nope'), { code: 'ENOENT' });
};

test('defaults', () => {
  const p = parseCommandLine([], noFile);
  assert.equal(p.kind, 'run');
  if (p.kind !== 'run') return;
  assert.equal(p.config.dataRoot, '/var/lib/berth');
  assert.equal(p.config.execRoot, '/run/berth');
  assert.deepEqual(p.config.hosts, ['unix:///run/berth/berth.sock']);
  assert.equal(p.config.pidfile, '/run/berth/berthd.pid');
  assert.equal(p.config.logLevel, 'info');
});

test('flags, repeatable -H, daemon.json keys', () => {
  const p = parseCommandLine(
    ['-H', 'unix:///a.sock', '-H', 'tcp://127.0.0.1:2375', '--data-root', '/d'],
    () => JSON.stringify({ 'log-level': 'debug', 'insecure-registries': ['r:5000'] }),
  );
  assert.equal(p.kind, 'run');
  if (p.kind !== 'run') return;
  assert.deepEqual(p.config.hosts, ['unix:///a.sock', 'tcp://127.0.0.1:2375']);
  assert.equal(p.config.dataRoot, '/d');
  assert.equal(p.config.logLevel, 'debug');
  assert.deepEqual(p.config.insecureRegistries, ['r:5000']);
});

test('errors: unknown keys, flag and file both, bad JSON, bad level, unknown flag', () => {
  assert.throws(
    () => parseCommandLine([], () => '{"colour":"blue"}'),
    /don't match any configuration option.*colour/,
  );
  assert.throws(
    () => parseCommandLine(['--data-root', '/x'], () => '{"data-root":"/y"}'),
    /both as a flag and in the configuration file.*data-root/,
  );
  assert.throws(() => parseCommandLine([], () => '{bad'), /invalid JSON/);
  assert.throws(() => parseCommandLine(['--log-level', 'loud'], noFile), /invalid log level "loud"/);
  assert.throws(() => parseCommandLine(['--frobnicate'], noFile), /Unknown option '--frobnicate'/);
});

test('hosts: tcp only on loopback', () => {
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375', NO_TLS), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 2375,
    tls: false,
  });
  assert.deepEqual(parseHost('unix:///x.sock', NO_TLS), { kind: 'unix', path: '/x.sock' });
  assert.throws(
    () => parseHost('tcp://0.0.0.0:2375', NO_TLS),
    /refusing to listen.*--tlsverify.*unix socket.*ssh/,
  );
  assert.throws(
    () => parseHost('tcp://0.0.0.0:2376', { tls: true, tlsVerify: false }),
    /without --tlsverify/,
  );
  assert.deepEqual(parseHost('tcp://0.0.0.0', { tls: true, tlsVerify: true }), {
    kind: 'tcp',
    host: '0.0.0.0',
    port: 2376,
    tls: true,
  });
  assert.throws(() => parseHost('ssh://x', NO_TLS), /invalid host/);
});

test('network flags: --bridge, --bip, --dns and their daemon.json keys', () => {
  const d = parseCommandLine([], noFile);
  assert.ok(d.kind === 'run' && d.config.bridge === 'berth0' && d.config.bip === undefined);
  const p = parseCommandLine(['-b', 'bt0', '--bip', '10.199.3.1/24', '--dns', '127.0.0.53'], noFile);
  assert.ok(p.kind === 'run');
  if (p.kind !== 'run') return;
  assert.equal(p.config.bridge, 'bt0');
  assert.equal(p.config.bip, '10.199.3.1/24');
  assert.deepEqual(p.config.dns, ['127.0.0.53']);
  const f = parseCommandLine([], () => JSON.stringify({ bridge: 'bt1', dns: ['10.0.0.1'] }));
  assert.ok(f.kind === 'run' && f.config.bridge === 'bt1' && f.config.dns[0] === '10.0.0.1');
  assert.throws(() => parseCommandLine(['--bridge', 'a-name-longer-than-15'], noFile), /invalid bridge name/);
  assert.throws(() => parseCommandLine(['--bip', '10.1.1.1'], noFile), /invalid bip/);
  assert.throws(() => parseCommandLine(['--dns', 'resolver'], noFile), /invalid dns/);
});

test('cri-streaming-address: loopback with a free port by default; a bad one is refused', () => {
  const p = parseCommandLine([], noFile);
  assert.equal(p.kind === 'run' && p.config.criStreamingAddress, '127.0.0.1:0');
  const q = parseCommandLine(['--cri-streaming-address', '[::1]:10010'], noFile);
  assert.equal(q.kind === 'run' && q.config.criStreamingAddress, '[::1]:10010');
  const f = parseCommandLine([], () => '{"cri-streaming-address":"127.0.0.1:10011"}');
  assert.equal(f.kind === 'run' && f.config.criStreamingAddress, '127.0.0.1:10011');
  assert.throws(() => parseCommandLine(['--cri-streaming-address', '10010'], noFile), /must be HOST:PORT/);
});

test('CNI folders of CRI pods: defaults, flags, daemon.json keys, absolute paths only', () => {
  const d = parseCommandLine([], noFile);
  assert.ok(d.kind === 'run');
  if (d.kind !== 'run') return;
  assert.equal(d.config.cniConfDir, '/etc/cni/net.d');
  assert.deepEqual(d.config.cniBinDirs, ['/usr/lib/cni']);
  const p = parseCommandLine(['--cni-conf-dir', '/x/net.d', '--cni-bin-dir', '/a:/b'], noFile);
  assert.ok(p.kind === 'run' && p.config.cniConfDir === '/x/net.d');
  if (p.kind !== 'run') return;
  assert.deepEqual(p.config.cniBinDirs, ['/a', '/b']);
  const f = parseCommandLine([], () => JSON.stringify({ 'cni-bin-dir': '/opt/cni/bin' }));
  assert.ok(f.kind === 'run' && f.config.cniBinDirs[0] === '/opt/cni/bin');
  assert.throws(() => parseCommandLine(['--cni-bin-dir', '/a:bin'], noFile), /invalid CNI folder "bin"/);
  assert.throws(() => parseCommandLine(['--cni-conf-dir', 'net.d'], noFile), /invalid CNI folder "net.d"/);
});
