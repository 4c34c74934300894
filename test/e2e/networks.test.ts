// Networks through the real docker CLI and the berth CLI: user bridge networks with DNS,
// none/host/container modes, published ports, --internal, connect/disconnect, IPAM across a
// daemon restart, bad input, and a clean host afterwards. Traffic goes only to loopback and to
// the containers this file starts.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
let bridge = '';
const userBridges: string[] = [];
// A stand-in for the host's resolvers on a loopback address of its own: the embedded DNS
// forwards names it does not know there (no traffic leaves the host).
const upstreamAddr = `127.77.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
const upstream = dgram.createSocket('udp4');
const upstreamAsked: string[] = [];
before(async () => {
  upstream.on('message', (q, rinfo) => {
    // Header + question echoed, one A answer 10.0.0.42 pointing at the question name.
    let off = 12;
    const labels: string[] = [];
    while (q[off]! > 0) {
      labels.push(q.toString('latin1', off + 1, off + 1 + q[off]!));
      off += 1 + q[off]!;
    }
    upstreamAsked.push(labels.join('.'));
    const qtype = q.readUInt16BE(off + 1);
    const head = Buffer.from(q.subarray(0, off + 5));
    head[2] = 0x81;
    const known = labels.join('.') === 'outside.test';
    head[3] = known ? 0x80 : 0x83; // NXDOMAIN for every other name
    head.writeUInt16BE(known && qtype === 1 ? 1 : 0, 6);
    const ans = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 42]);
    upstream.send(known && qtype === 1 ? Buffer.concat([head, ans]) : head, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => upstream.bind(53, upstreamAddr, () => r()));
  d = await startTestDaemon({ config: { dns: [upstreamAddr] } });
  bridge = d.bridge;
  const r = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox:latest']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  upstream.close();
  if (!d) return;
  const ids = (await d.docker(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
  if (ids.length > 0) await d.docker(['rm', '-f', ...ids]);
  await d.docker(['network', 'prune', '-f']);
  await d.stop();
  await d.cleanup();
  // Nothing of this daemon is left on the host: links, netns mounts, iptables chains.
  const links = (await run('ip', ['-o', 'link'])).stdout;
  for (const b of [bridge, ...userBridges]) assert.ok(!links.includes(`${b}:`), `bridge ${b} left behind`);
  const rules = (await run('iptables-save', [])).stdout;
  assert.ok(!rules.includes(`-${bridge}`), `iptables chains of ${bridge} left behind:\n${rules}`);
  const mounts = (await run('cat', ['/proc/self/mountinfo'])).stdout;
  assert.ok(!mounts.includes(d.dir), 'netns mounts left behind');
});

const sub = (k: number) => `10.${k}.${d.netByte}`;

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

// biome-ignore lint/suspicious/noExplicitAny: docker inspect JSON, read field by field
async function inspect(name: string): Promise<Record<string, any>> {
  return JSON.parse(await ok(d.docker(['inspect', name])))[0];
}

async function bridgeName(net: string): Promise<string> {
  const n = JSON.parse(await ok(d.docker(['network', 'inspect', net])))[0];
  return n.Options['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`;
}

describe('user-defined bridge network', () => {
  test('containers reach each other by name and alias, resolved by the embedded DNS', async () => {
    await ok(d.docker(['network', 'create', '--subnet', `${sub(198)}.0/24`, 'appnet']));
    userBridges.push(await bridgeName('appnet'));
    await ok(
      d.docker([
        'run',
        '-d',
        '--name',
        'web',
        '--network',
        'appnet',
        '--network-alias',
        'www',
        'busybox',
        'sleep',
        '300',
      ]),
    );
    const web = await inspect('web');
    const ip = web.NetworkSettings.Networks.appnet.IPAddress as string;
    assert.match(ip, new RegExp(`^${sub(198).replace(/\./g, '\\.')}\\.\\d+$`));
    assert.equal(web.NetworkSettings.Networks.appnet.Gateway, `${sub(198)}.1`);
    // At API 1.50 (docker CLI 28) the aliases are as requested; the short ID is among DNSNames
    // (API < 1.45 lists it as an alias too: test/e2e/api-versions.test.ts).
    assert.deepEqual(web.NetworkSettings.Networks.appnet.Aliases, ['www']);
    assert.deepEqual(web.NetworkSettings.Networks.appnet.DNSNames, ['web', 'www', web.Id.slice(0, 12)]);
    for (const name of ['web', 'www', web.Id.slice(0, 12)]) {
      const r = await d.docker(['run', '--rm', '--network', 'appnet', 'busybox', 'ping', '-c1', '-W2', name]);
      assert.equal(r.code, 0, `ping ${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`from ${ip.replace(/\./g, '\\.')}`));
    }
    const ns = await ok(d.docker(['run', '--rm', '--network', 'appnet', 'busybox', 'nslookup', 'www']));
    assert.match(ns, new RegExp(ip.replace(/\./g, '\\.')));
    const resolv = await ok(
      d.docker(['run', '--rm', '--network', 'appnet', 'busybox', 'cat', '/etc/resolv.conf']),
    );
    assert.match(resolv, new RegExp(`nameserver ${sub(198).replace(/\./g, '\\.')}\\.1`));
    // Other names go to the host's resolvers (here: the stand-in on loopback).
    const fwd = await ok(
      d.docker(['run', '--rm', '--network', 'appnet', 'busybox', 'nslookup', 'outside.test']),
    );
    assert.match(fwd, /10\.0\.0\.42/);
    assert.ok(upstreamAsked.includes('outside.test'), upstreamAsked.join(','));
    // The name disappears with the container.
    await ok(d.docker(['rm', '-f', 'web']));
    const gone = await d.docker(['run', '--rm', '--network', 'appnet', 'busybox', 'nslookup', 'web']);
    assert.notEqual(gone.code, 0, gone.stdout);
  });

  test('--ip, --mac-address, --hostname, --dns-search, --dns-option', async () => {
    // docker 28 and berth's CLI send --mac-address per network (API 1.44).
    const mac = await ok(
      d.berth([
        'run',
        '--rm',
        '--mac-address',
        '02:42:0a:00:00:32',
        'busybox',
        'cat',
        '/sys/class/net/eth0/address',
      ]),
    );
    assert.equal(mac, '02:42:0a:00:00:32');
    const out = await ok(
      d.docker([
        'run',
        '--rm',
        '--network',
        'appnet',
        '--ip',
        `${sub(198)}.50`,
        '--hostname',
        'box1',
        '--dns-search',
        'example.test',
        '--dns-option',
        'ndots:2',
        'busybox',
        'sh',
        '-c',
        'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address; hostname; cat /etc/resolv.conf; grep box1 /etc/hosts',
      ]),
    );
    assert.match(out, new RegExp(`inet ${sub(198).replace(/\./g, '\\.')}\\.50/24`));
    assert.match(out, /^box1$/m);
    assert.match(out, /search example\.test/);
    assert.match(out, /options ndots:2/);
    assert.match(out, new RegExp(`${sub(198).replace(/\./g, '\\.')}\\.50\\s+box1`));
  });
});

describe('network modes', () => {
  test('--network none has only lo', async () => {
    const out = await ok(d.docker(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']));
    assert.deepEqual(out.split(/\s+/), ['lo']);
  });

  test('--network host shares the host interfaces', async () => {
    const out = await ok(d.docker(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']));
    assert.ok(out.split(/\s+/).includes(d.bridge), out);
  });

  test('the default bridge gives eth0 with an address in the daemon bridge subnet and a default route', async () => {
    const out = await ok(
      d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0; ip route']),
    );
    assert.match(out, new RegExp(`inet 10\\.199\\.${d.netByte}\\.\\d+/24`));
    assert.match(out, new RegExp(`default via 10\\.199\\.${d.netByte}\\.1`));
  });

  test('container:<name> shares the interfaces of another container', async () => {
    await ok(d.docker(['run', '-d', '--name', 'owner', 'busybox', 'sleep', '300']));
    const own = (await inspect('owner')).NetworkSettings.MacAddress;
    const shared = await ok(
      d.docker([
        'run',
        '--rm',
        '--network',
        'container:owner',
        'busybox',
        'cat',
        '/sys/class/net/eth0/address',
      ]),
    );
    assert.equal(shared, own);
  });

  test('--link on the default bridge writes /etc/hosts', async () => {
    const ip = (await inspect('owner')).NetworkSettings.IPAddress as string;
    assert.ok(ip);
    const out = await ok(
      d.docker([
        'run',
        '--rm',
        '--link',
        'owner:db',
        'busybox',
        'sh',
        '-c',
        'cat /etc/hosts; ping -c1 -W2 db',
      ]),
    );
    assert.match(out, new RegExp(`${ip.replace(/\./g, '\\.')}\\s+db owner`));
    assert.match(out, /1 packets received/);
  });

  test('--internal network: no default route, no MASQUERADE', async () => {
    await ok(d.docker(['network', 'create', '--internal', '--subnet', `${sub(197)}.0/24`, 'isolated']));
    userBridges.push(await bridgeName('isolated'));
    const routes = await ok(d.docker(['run', '--rm', '--network', 'isolated', 'busybox', 'ip', 'route']));
    assert.doesNotMatch(routes, /default/);
    const nat = (await run('iptables-save', ['-t', 'nat'])).stdout;
    assert.match(nat, new RegExp(`-s ${sub(198).replace(/\./g, '\\.')}\\.0/24 ! -o \\S+ -j MASQUERADE`));
    assert.doesNotMatch(nat, new RegExp(`${sub(197).replace(/\./g, '\\.')}\\.0/24.*MASQUERADE`));
  });
});

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('published ports', () => {
  test('-p 127.0.0.1::80 answers from the host loopback; port and inspect show it', async () => {
    await ok(
      d.docker([
        'run',
        '-d',
        '--name',
        'httpd',
        '-p',
        '127.0.0.1::80',
        'busybox',
        'sh',
        '-c',
        'mkdir -p /www && echo hello-berth > /www/index.html && httpd -f -p 80 -h /www',
      ]),
    );
    const port = await ok(d.docker(['port', 'httpd', '80']));
    const m = /^127\.0\.0\.1:(\d+)$/.exec(port);
    assert.ok(m, port);
    const hostPort = Number(m[1]);
    const info = await inspect('httpd');
    assert.deepEqual(info.NetworkSettings.Ports['80/tcp'], [
      { HostIp: '127.0.0.1', HostPort: String(hostPort) },
    ]);
    let body = '';
    for (let i = 0; i < 20 && !body; i++) {
      body = await httpGet(hostPort).catch(() => '');
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, 'hello-berth\n');
    // The berth CLI's port command agrees.
    assert.equal(await ok(d.berth(['port', 'httpd'])), `80/tcp -> 127.0.0.1:${hostPort}`);
    // A second container asking for the same host port fails clearly and leaves nothing behind.
    const clash = await d.docker([
      'run',
      '-d',
      '--name',
      'clash',
      '-p',
      `127.0.0.1:${hostPort}:80`,
      'busybox',
      'sleep',
      '30',
    ]);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /port is already allocated/);
    assert.equal((await inspect('clash')).State.Running, false);
    assert.equal((await inspect('clash')).NetworkSettings.Ports['80/tcp'], undefined);
    await ok(d.docker(['rm', '-f', 'httpd', 'clash']));
    // -P publishes every exposed port; a container range gets one host port each.
    await ok(
      d.docker([
        'run',
        '-d',
        '--name',
        'many',
        '--expose',
        '7000',
        '-P',
        '-p',
        '127.0.0.1::81-82/udp',
        'busybox',
        'sleep',
        '300',
      ]),
    );
    const ports = (await ok(d.docker(['port', 'many']))).split('\n').sort();
    assert.equal(ports.length, 3, ports.join('\n'));
    assert.match(ports[0]!, /^7000\/tcp -> 0\.0\.0\.0:\d+$/);
    assert.match(ports[1]!, /^81\/udp -> 127\.0\.0\.1:\d+$/);
    assert.match(ports[2]!, /^82\/udp -> 127\.0\.0\.1:\d+$/);
    const ps = await ok(d.docker(['ps', '--filter', 'name=many', '--format', '{{.Ports}}']));
    assert.match(ps, /127\.0\.0\.1:\d+->81\/udp/);
    await ok(d.docker(['rm', '-f', 'many']));
    const dn = (await run('iptables-save', ['-t', 'nat'])).stdout;
    assert.doesNotMatch(dn, new RegExp(`-A BERTH-DN-${bridge} `), 'DNAT rules of removed containers must go');
    const after = await httpGet(hostPort).then(
      () => 'answered',
      () => 'closed',
    );
    assert.equal(after, 'closed');
  });
});

describe('connect and disconnect', () => {
  test('connect adds an interface and a name; disconnect removes them', async () => {
    await ok(d.docker(['run', '-d', '--name', 'roamer', 'busybox', 'sleep', '300']));
    await ok(d.docker(['network', 'connect', '--alias', 'wanderer', 'appnet', 'roamer']));
    const nets = (await inspect('roamer')).NetworkSettings.Networks;
    assert.deepEqual(Object.keys(nets).sort(), ['appnet', 'bridge']);
    const ip = nets.appnet.IPAddress as string;
    const ping = await d.docker([
      'run',
      '--rm',
      '--network',
      'appnet',
      'busybox',
      'ping',
      '-c1',
      '-W2',
      'wanderer',
    ]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, new RegExp(ip.replace(/\./g, '\\.')));
    // Interfaces seen from the host inside the container's netns (docker exec flakes under load).
    const sandbox = (await inspect('roamer')).NetworkSettings.SandboxKey as string;
    const links = async () =>
      [...(await ok(run('nsenter', [`--net=${sandbox}`, 'ip', '-o', 'link']))).matchAll(/^\d+: ([^:@]+)/gm)]
        .map((m) => m[1])
        .join(' ');
    const ifs = await links();
    assert.deepEqual(ifs.split(/\s+/).sort(), ['eth0', 'eth1', 'lo']);
    await ok(d.docker(['network', 'disconnect', 'appnet', 'roamer']));
    const ifs2 = await links();
    assert.deepEqual(ifs2.split(/\s+/).sort(), ['eth0', 'lo']);
    const lost = await d.docker(['run', '--rm', '--network', 'appnet', 'busybox', 'ping', '-c1', '-W1', ip]);
    assert.notEqual(lost.code, 0);
  });
});

describe('bad input', () => {
  test('overlapping subnet, gateway outside, --ip outside or taken, unknown network', async () => {
    const overlap = await d.docker(['network', 'create', '--subnet', `${sub(198)}.128/25`, 'overlap']);
    assert.notEqual(overlap.code, 0);
    assert.match(overlap.stderr, /overlaps/);
    // The docker CLI checks this one itself; the API must refuse it too.
    const gw = await d.request(
      'POST',
      '/networks/create',
      JSON.stringify({
        Name: 'badgw',
        IPAM: { Config: [{ Subnet: `10.196.${d.netByte}.0/24`, Gateway: '10.1.1.1' }] },
      }),
      { 'Content-Type': 'application/json' },
    );
    assert.equal(gw.status, 400);
    assert.match(gw.body.toString(), /gateway 10\.1\.1\.1 is not a host address inside subnet/);
    const outside = await d.docker(['create', '--network', 'appnet', '--ip', '10.1.1.9', 'busybox']);
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, /not a host address/);
    await ok(
      d.docker(['create', '--name', 'holder', '--network', 'appnet', '--ip', `${sub(198)}.77`, 'busybox']),
    );
    const taken = await d.docker(['create', '--network', 'appnet', '--ip', `${sub(198)}.77`, 'busybox']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /already in use.*holder/i);
    const unknown = await d.request('GET', '/networks/nosuchnet');
    assert.equal(unknown.status, 404);
    const run404 = await d.docker(['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
    assert.notEqual(run404.code, 0);
    assert.match(run404.stderr, /network nosuchnet not found/);
    // Nothing was created by the failures.
    const names = (await ok(d.docker(['network', 'ls', '--format', '{{.Name}}']))).split('\n');
    assert.ok(!names.includes('overlap') && !names.includes('badgw'));
    const all = (await ok(d.docker(['ps', '-a', '--format', '{{.Names}}']))).split('\n');
    assert.equal(
      all.filter((n) => n !== 'holder' && n !== 'owner' && n !== 'roamer').length,
      0,
      all.join(','),
    );
    const rm = await d.request('DELETE', '/networks/appnet');
    assert.equal(rm.status, 409);
    assert.match(rm.body.toString(), /holder/);
    await ok(d.docker(['rm', 'holder']));
  });
});

describe('IPAM across a daemon restart', () => {
  test('addresses are kept and never handed out twice', async () => {
    await ok(d.docker(['run', '-d', '--name', 'keep1', '--network', 'appnet', 'busybox', 'sleep', '300']));
    const before = (await inspect('keep1')).NetworkSettings.Networks.appnet.IPAddress;
    d = await d.restart();
    const after = (await inspect('keep1')).NetworkSettings.Networks.appnet.IPAddress;
    assert.equal(after, before);
    await ok(d.docker(['run', '-d', '--name', 'keep2', '--network', 'appnet', 'busybox', 'sleep', '300']));
    const second = (await inspect('keep2')).NetworkSettings.Networks.appnet.IPAddress;
    assert.notEqual(second, before);
    const ping = await d.docker([
      'run',
      '--rm',
      '--network',
      'appnet',
      'busybox',
      'ping',
      '-c1',
      '-W2',
      'keep1',
    ]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  test('after kill -9 of berthd, published ports and names work again once it is back', async () => {
    await ok(
      d.docker([
        'run',
        '-d',
        '--name',
        'web2',
        '--network',
        'appnet',
        '-p',
        '127.0.0.1::80',
        'busybox',
        'sh',
        '-c',
        'mkdir -p /www && echo again > /www/index.html && httpd -f -p 80 -h /www',
      ]),
    );
    const hostPort = Number((await ok(d.docker(['port', 'web2', '80']))).split(':')[1]);
    await d.kill9();
    // The port is DNAT in the kernel: it answers while berthd is down.
    let down = '';
    for (let i = 0; i < 20 && !down; i++) {
      down = await httpGet(hostPort).catch(() => '');
      if (!down) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(down, 'again\n');
    d = await d.restart();
    let body = '';
    for (let i = 0; i < 20 && !body; i++) {
      body = await httpGet(hostPort).catch(() => '');
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, 'again\n');
    const ping = await d.docker([
      'run',
      '--rm',
      '--network',
      'appnet',
      'busybox',
      'ping',
      '-c1',
      '-W2',
      'web2',
    ]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });
});

describe('berth CLI', () => {
  test('network create/ls/inspect/connect/disconnect/rm/prune and run -p', async () => {
    const id = await ok(
      d.berth(['network', 'create', '--subnet', `10.196.${d.netByte}.0/24`, '--label', 'who=berth', 'bnet']),
    );
    assert.match(id, /^[a-f0-9]{64}$/);
    userBridges.push(`br-${id.slice(0, 12)}`);
    const ls = await ok(d.berth(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']));
    assert.deepEqual(ls.split('\n').sort(), [
      'appnet bridge',
      'bnet bridge',
      'bridge bridge',
      'host host',
      'isolated bridge',
      'none null',
    ]);
    assert.equal(
      await ok(d.berth(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Subnet}}', 'bnet'])),
      `10.196.${d.netByte}.0/24`,
    );
    await ok(
      d.berth([
        'run',
        '-d',
        '--name',
        'b1',
        '--network',
        'bnet',
        '--network-alias',
        'bee',
        '-p',
        '127.0.0.1::8080',
        'busybox',
        'sleep',
        '300',
      ]),
    );
    assert.match(await ok(d.berth(['port', 'b1', '8080'])), /^127\.0\.0\.1:\d+$/);
    const ping = await d.berth(['run', '--rm', '--network', 'bnet', 'busybox', 'ping', '-c1', '-W2', 'bee']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const members = JSON.parse(await ok(d.berth(['network', 'inspect', 'bnet'])))[0].Containers;
    assert.deepEqual(
      Object.values(members as Record<string, { Name: string }>).map((m) => m.Name),
      ['b1'],
    );
    const busy = await d.berth(['network', 'rm', 'bnet']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /active endpoints \(b1\)/);
    await ok(d.berth(['network', 'disconnect', 'bnet', 'b1']));
    assert.deepEqual(Object.keys((await inspect('b1')).NetworkSettings.Networks), []);
    await ok(d.berth(['network', 'connect', '--ip', `10.196.${d.netByte}.9`, 'bnet', 'b1']));
    assert.equal((await inspect('b1')).NetworkSettings.Networks.bnet.IPAddress, `10.196.${d.netByte}.9`);
    await ok(d.berth(['rm', '-f', 'b1']));
    const pruned = await ok(d.berth(['network', 'prune', '-f', '--filter', 'label=who=berth']));
    assert.match(pruned, /bnet/);
    const missing = await d.berth(['network', 'inspect', 'bnet']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /network bnet not found/);
  });
});

describe('clean state', () => {
  test('start-up removes stale veths, netns files and rules of this daemon, and nothing else', async () => {
    const veth = `vbst${d.netByte.toString(16).padStart(2, '0')}${Math.floor(Math.random() * 1e4)}`;
    const netnsFile = `${d.dir}/exec/netns/${'f'.repeat(64)}`;
    const foreign = [
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-s',
      `10.195.${d.netByte}.0/24`,
      '-m',
      'comment',
      '--comment',
      `not-berth-${d.netByte}`,
      '-j',
      'RETURN',
    ];
    try {
      await ok(run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`]));
      await ok(run('ip', ['link', 'set', veth, 'master', bridge]));
      await ok(run('touch', [netnsFile]));
      await ok(run('unshare', [`--net=${netnsFile}`, 'true']));
      await ok(
        run('iptables', [
          '-w',
          '5',
          '-t',
          'nat',
          '-A',
          `BERTH-DN-${bridge}`,
          '-p',
          'tcp',
          '--dport',
          '1',
          '-j',
          'DNAT',
          '--to-destination',
          `10.199.${d.netByte}.99:1`,
        ]),
      );
      await ok(run('iptables', ['-w', '5', ...foreign]));
      d = await d.restart();
      const links = (await run('ip', ['-o', 'link'])).stdout;
      assert.ok(!links.includes(`${veth}:`) && !links.includes(`${veth}@`), 'stale veth kept');
      assert.ok(!(await run('cat', ['/proc/self/mountinfo'])).stdout.includes(netnsFile), 'stale netns kept');
      const nat = (await run('iptables-save', ['-t', 'nat'])).stdout;
      assert.doesNotMatch(nat, new RegExp(`10\\.199\\.${d.netByte}\\.99:1`));
      assert.match(nat, new RegExp(`not-berth-${d.netByte}`), 'a rule Berth did not add was removed');
      // Running containers kept their network through all this.
      const ping = await d.docker([
        'run',
        '--rm',
        '--network',
        'appnet',
        'busybox',
        'ping',
        '-c1',
        '-W2',
        'keep1',
      ]);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    } finally {
      await run('iptables', ['-w', '5', ...foreign.map((a) => (a === '-A' ? '-D' : a))]);
      await run('ip', ['link', 'del', veth]);
      await run('umount', [netnsFile]);
    }
  });
});
