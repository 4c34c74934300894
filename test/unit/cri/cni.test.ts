// The CNI driver's protocol, with a recording plugin (a real executable that writes down its
// environment and stdin, answers ADD with a result naming itself): which file of the folder is
// the network, the list's name and cniVersion in every plugin's config, prevResult chaining on
// ADD and the cached result on CHECK/DEL, DEL in reverse order, runtimeConfig holding only the
// declared capabilities, CNI_ARGS and CNI_PATH, the cache kept until DEL succeeds, the plugin
// deadline, and the results' IPs.
import assert from 'node:assert/strict';
import { promises as fsp, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Msg } from '../../../src/cri/server.ts';
import { CniNetwork, ipsOf, loadNetwork, parseNetwork, podNetworkArgs } from '../../../src/cri/cni/index.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-cni-unit-'));
const confDir = path.join(tmp, 'net.d');
const binDir = path.join(tmp, 'bin');
const logFile = path.join(tmp, 'calls.jsonl');
const ID = 'a'.repeat(64);

// Each call appends {"env": ..., "conf": <stdin>} to calls.jsonl; ADD prints a result whose
// ips carry the plugin's own address (rec1 → .1, rec2 → .2) so chaining is visible.
const RECORDER = `#!/usr/bin/env node
const fs = require('fs');
const conf = JSON.parse(fs.readFileSync(0, 'utf8'));
const e = process.env;
const me = require('path').basename(process.argv[1]);
fs.appendFileSync(${JSON.stringify(logFile)}, JSON.stringify({ me, cmd: e.CNI_COMMAND, id: e.CNI_CONTAINERID,
  netns: e.CNI_NETNS, ifname: e.CNI_IFNAME, args: e.CNI_ARGS, path: e.CNI_PATH, conf }) + '\\n');
if (me === 'slow') setTimeout(() => {}, 60000);
else if (e.CNI_COMMAND === 'ADD') {
  const prev = conf.prevResult || { cniVersion: conf.cniVersion, interfaces: [], ips: [] };
  const n = me === 'rec1' ? 1 : 2;
  prev.interfaces.push({ name: 'eth0', sandbox: e.CNI_NETNS });
  prev.ips.push({ address: '10.250.0.' + n + '/24', interface: prev.interfaces.length - 1 });
  process.stdout.write(JSON.stringify(prev));
}
`;

async function calls(): Promise<Msg[]> {
  const text = await fsp.readFile(logFile, 'utf8').catch(() => '');
  await fsp.rm(logFile, { force: true });
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

before(async () => {
  await fsp.mkdir(confDir);
  await fsp.mkdir(binDir);
  for (const n of ['rec1', 'rec2', 'slow'])
    await fsp.writeFile(path.join(binDir, n), RECORDER, { mode: 0o755 });
});
after(() => fsp.rm(tmp, { recursive: true, force: true }));

const list = (name: string, plugins: unknown[]) => JSON.stringify({ cniVersion: '1.0.0', name, plugins });

test('the first .conf/.conflist/.json in lexical order is the network; others and other names are ignored', async () => {
  assert.equal((await loadNetwork(confDir, [binDir])).kind, 'none');
  await fsp.writeFile(path.join(confDir, '20-b.conflist'), list('b', [{ type: 'rec1' }]));
  await fsp.writeFile(
    path.join(confDir, '10-a.conf'),
    JSON.stringify({ cniVersion: '0.4.0', name: 'a', type: 'rec2' }),
  );
  await fsp.writeFile(path.join(confDir, '00-notes.txt'), 'not a config');
  const l = await loadNetwork(confDir, [binDir]);
  assert.equal(l.kind, 'ok');
  if (l.kind !== 'ok') return;
  assert.equal(l.network.name, 'a');
  assert.equal(l.network.cniVersion, '0.4.0');
  assert.deepEqual(
    l.network.plugins.map((p) => p.type),
    ['rec2'],
  );
  await fsp.rm(path.join(confDir, '10-a.conf'));
});

test('bad configs are refused naming the file and what is wrong; a plugin type is never a path', () => {
  assert.throws(() => parseNetwork('x.conflist', '[]'), /x\.conflist must hold a JSON object/);
  assert.throws(() => parseNetwork('x.conflist', list('n', [])), /non-empty "plugins"/);
  assert.throws(() => parseNetwork('x.conflist', list('-n', [{ type: 'a' }])), /"name"/);
  assert.throws(
    () => parseNetwork('x.conflist', list('n', [{ type: '../../bin/sh' }])),
    /plugins\[0\]: "type"/,
  );
  assert.throws(
    () => parseNetwork('x.conflist', list('n', [{ type: 'bridge', ipam: { type: '/bin/sh' } }])),
    /"ipam.type"/,
  );
});

test('ADD chains prevResult, DEL runs in reverse with the cached result, CHECK in order; runtimeConfig only as declared', async () => {
  await fsp.writeFile(
    path.join(confDir, '20-b.conflist'),
    list('chain', [
      { type: 'rec1', runtimeConfig: { smuggled: true } },
      { type: 'rec2', capabilities: { portMappings: true } },
    ]),
  );
  const cni = new CniNetwork({
    confDir,
    binDirs: [binDir],
    cacheDir: path.join(tmp, 'cache'),
    log: () => {},
  });
  const pod = podNetworkArgs(ID, {
    metadata: { name: 'web', namespace: 'prod', uid: 'u1' },
    port_mappings: [
      { protocol: 'UDP', container_port: 53, host_port: 5353, host_ip: '127.0.0.1' },
      { container_port: 80 },
    ],
    dns_config: { servers: ['10.96.0.10'] },
  });
  const netns = path.join(tmp, 'netns'); // a file: only passed through
  await fsp.writeFile(netns, '');
  const res = await cni.setup(ID, netns, pod);
  assert.deepEqual(res?.ips, ['10.250.0.1', '10.250.0.2']);
  const add = await calls();
  assert.deepEqual(
    add.map((c) => [c.me, c.cmd]),
    [
      ['rec1', 'ADD'],
      ['rec2', 'ADD'],
    ],
  );
  for (const c of add) {
    assert.equal(c.id, ID);
    assert.equal(c.netns, netns);
    assert.equal(c.ifname, 'eth0');
    assert.equal(c.path, binDir);
    assert.equal(
      c.args,
      `IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=${ID};K8S_POD_UID=u1`,
    );
    assert.equal(c.conf.name, 'chain');
    assert.equal(c.conf.cniVersion, '1.0.0');
  }
  assert.equal(add[0]!.conf.prevResult, undefined);
  assert.equal(add[0]!.conf.runtimeConfig, undefined, 'a runtimeConfig in the file is not passed on');
  assert.deepEqual(add[1]!.conf.prevResult.ips, [{ address: '10.250.0.1/24', interface: 0 }]);
  // host_port 0 is not mapped (as containerd); dns is not declared by rec2, so not sent.
  assert.deepEqual(add[1]!.conf.runtimeConfig, {
    portMappings: [{ hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' }],
  });
  // The config folder changes: CHECK and DEL still use what ADD used.
  await fsp.writeFile(path.join(confDir, '20-b.conflist'), list('other', [{ type: 'rec1' }]));
  await cni.check(ID);
  const check = await calls();
  assert.deepEqual(
    check.map((c) => [c.me, c.cmd]),
    [
      ['rec1', 'CHECK'],
      ['rec2', 'CHECK'],
    ],
  );
  assert.equal(check[0]!.conf.prevResult.ips.length, 2);
  assert.deepEqual(await cni.ipsOf(ID), ['10.250.0.1', '10.250.0.2']);
  await fsp.rm(netns);
  await cni.teardown(ID);
  const del = await calls();
  assert.deepEqual(
    del.map((c) => [c.me, c.cmd, c.conf.name]),
    [
      ['rec2', 'DEL', 'chain'],
      ['rec1', 'DEL', 'chain'],
    ],
  );
  assert.equal(del[0]!.netns, '', 'a netns that is gone is not passed');
  assert.equal(del[0]!.conf.prevResult.ips.length, 2);
  assert.deepEqual(await cni.pending(), []);
  await cni.teardown(ID); // nothing cached: nothing run
  assert.deepEqual(await calls(), []);
});

test('a plugin past its deadline is killed and the error names it', async () => {
  await fsp.writeFile(path.join(confDir, '20-b.conflist'), list('slow', [{ type: 'slow' }]));
  const cni = new CniNetwork({
    confDir,
    binDirs: [binDir],
    cacheDir: path.join(tmp, 'cache'),
    timeoutMs: 300,
    log: () => {},
  });
  await assert.rejects(
    cni.setup(ID, '', podNetworkArgs(ID, { metadata: {} })),
    /CNI plugin slow \(ADD\) timed out after 300 ms/,
  );
  // The cache written before ADD stays, so the caller's DEL (or the next start) can undo it.
  assert.deepEqual(await cni.pending(), [ID]);
});

test('CNI_ARGS values cannot smuggle arguments; result IPs: v4 first, host-side interfaces skipped', () => {
  assert.throws(
    () => podNetworkArgs(ID, { metadata: { name: 'a;K8S_POD_NAME=b' } }),
    /config\.metadata\.name/,
  );
  assert.deepEqual(
    ipsOf({
      interfaces: [{ name: 'cni0' }, { name: 'eth0', sandbox: '/x' }],
      ips: [
        { address: 'fd00::5/64', interface: 1 },
        { address: '10.0.0.1/24', interface: 0 },
        { address: '10.0.0.5/24', interface: 1 },
      ],
    }),
    ['10.0.0.5', 'fd00::5'],
  );
  assert.deepEqual(ipsOf({ ip4: { ip: '10.1.0.3/16' } }), ['10.1.0.3']);
});
