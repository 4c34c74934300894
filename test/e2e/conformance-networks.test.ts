// docker-py's network contract (issue 15): the endpoint settings asked for at create and connect
// come back in inspect, links on user-defined networks are DNS names for the linking container,
// IPv6 networks hand out addresses, names may hold spaces, and a create naming a network it
// cannot join is refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const tag = randomBytes(3).toString('hex');
/** The IPv6 groups made from the tag, without leading zeros (berthd answers subnets canonically). */
const v6 = (hex: string) => Number.parseInt(hex, 16).toString(16);

/** Runs a docker-py script (API 1.41, as docker-py pins) and parses the JSON it prints last. */
async function py<T>(body: string): Promise<T> {
  const script = `import docker, json\nc = docker.APIClient(base_url="${daemon.d.host}", version="1.41")\n${body}`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

test('docker-py: IPAMConfig, Links, Aliases, DriverOpts and MacAddress asked for come back in inspect', async () => {
  const out = await py<Record<string, Record<string, unknown>>>(`
net = "epnet-${tag}"
c.create_network(net)
a = c.create_container("busybox", "sleep 100", host_config=c.create_host_config(network_mode=net),
    networking_config=c.create_networking_config({net: c.create_endpoint_config(
        aliases=["foo", "bar"], links=[("upstream-${tag}", "up")], link_local_ips=["169.254.8.8"],
        driver_opt={"com.docker-py.setting": "on"})}))
c.start(a)
b = c.create_container("busybox", "sleep 100")
c.connect_container_to_network(b, net, mac_address="02:42:ac:11:00:02", links=[("x", "y")])
print(json.dumps({"a": c.inspect_container(a)["NetworkSettings"]["Networks"][net],
                  "aid": {"Id": c.inspect_container(a)["Id"]},
                  "b": c.inspect_container(b)["NetworkSettings"]["Networks"][net]}))
`);
  const a = out.a!;
  assert.deepEqual(a.IPAMConfig, { LinkLocalIPs: ['169.254.8.8'] });
  assert.deepEqual(a.Links, [`upstream-${tag}:up`]);
  assert.deepEqual(a.Aliases, ['foo', 'bar', String(out.aid!.Id).slice(0, 12)]);
  assert.deepEqual(a.DriverOpts, { 'com.docker-py.setting': 'on' });
  // Not started: the chosen MAC is shown (Docker shows the requested one), no address yet.
  assert.equal(out.b!.MacAddress, '02:42:ac:11:00:02');
  assert.deepEqual(out.b!.Links, ['x:y']);
  assert.equal(out.b!.IPAddress, '');
});

test('docker-py: a static IPv4 address at create and at connect is shown in IPAMConfig', async () => {
  const out = await py<{ create: unknown; connect: unknown; ip: string }>(`
net = "ip4net-${tag}"
c.create_network(net, ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.${(Number.parseInt(tag.slice(0, 2), 16) % 150) + 20}.7.0/24")]))
sub = c.inspect_network(net)["IPAM"]["Config"][0]["Subnet"].rsplit(".", 2)[0]
a = c.create_container("busybox", "sleep 100", host_config=c.create_host_config(network_mode=net),
    networking_config=c.create_networking_config({net: c.create_endpoint_config(ipv4_address=sub + ".7.23")}))
c.start(a)
created = c.inspect_container(a)["NetworkSettings"]["Networks"][net]["IPAMConfig"]
c.disconnect_container_from_network(a, net)
c.connect_container_to_network(a, net, ipv4_address=sub + ".7.24")
n = c.inspect_container(a)["NetworkSettings"]["Networks"][net]
print(json.dumps({"create": created, "connect": n["IPAMConfig"], "ip": n["IPAddress"]}))
`);
  assert.match(String((out.create as { IPv4Address: string }).IPv4Address), /\.7\.23$/);
  assert.match(String((out.connect as { IPv4Address: string }).IPv4Address), /\.7\.24$/);
  assert.match(out.ip, /\.7\.24$/);
});

test('docker-py: links on a user-defined network resolve for the linking container only', async () => {
  const out = await py<{ linked: number; other: number }>(`
net = "lnnet-${tag}"
c.create_network(net)
hc = c.create_host_config(network_mode=net)
a = c.create_container("busybox", "sleep 100", host_config=hc,
    networking_config=c.create_networking_config({net: c.create_endpoint_config(links=[("up-${tag}", "bar")])}))
c.start(a)
u = c.create_container("busybox", "sleep 100", name="up-${tag}", host_config=hc)
c.start(u)
o = c.create_container("busybox", "sleep 100", host_config=hc)
c.start(o)
def code(cid, cmd):
    e = c.exec_create(cid, cmd)
    c.exec_start(e)
    return c.exec_inspect(e)["ExitCode"]
print(json.dumps({"linked": code(a, ["nslookup", "bar"]), "other": code(o, ["nslookup", "bar"])}))
`);
  assert.equal(out.linked, 0);
  assert.notEqual(out.other, 0);
});

test('docker-py: a network name with a space is created, inspected and removed', async () => {
  const out = await py<{ name: string; gone: boolean }>(`
nid = c.create_network("test ${tag}")["Id"]
name = c.inspect_network("test ${tag}")["Name"]
c.remove_network("test ${tag}")
print(json.dumps({"name": name, "gone": all(n["Id"] != nid for n in c.networks())}))
`);
  assert.deepEqual(out, { name: `test ${tag}`, gone: true });
});

test('docker-py: a create naming a second or an unknown network in EndpointsConfig is refused with 400', async () => {
  const out = await py<{ two: [number, string]; unknown: [number, string]; left: number }>(`
net = "unk-${tag}"
c.create_network(net)
def attempt(cfg):
    try:
        c.create_container("busybox", "true", host_config=c.create_host_config(network_mode=net),
                           networking_config=c.create_networking_config(cfg))
        return [0, ""]
    except docker.errors.APIError as e:
        return [e.status_code, str(e.explanation)]
two = attempt({net: c.create_endpoint_config(aliases=["a"]), "bar-${tag}": c.create_endpoint_config()})
unknown = attempt({"bar-${tag}": c.create_endpoint_config()})
print(json.dumps({"two": two, "unknown": unknown, "left": len(c.containers(all=True, filters={"network": net}))}))
`);
  assert.equal(out.two[0], 400);
  assert.match(out.two[1], /Container cannot be connected to network endpoints: .*bar-/);
  assert.equal(out.unknown[0], 400);
  assert.match(out.unknown[1], new RegExp(`network bar-${tag} not found`));
  assert.equal(out.left, 0);
});

test('docker-py: an IPv6 network gives containers IPv6 addresses that answer each other', async () => {
  const prefix = `fd42:${v6(tag.slice(0, 4))}:${v6(`${tag.slice(4)}00`)}:1`;
  const out = await py<{
    enabled: boolean;
    cfg: { Subnet: string; Gateway: string }[];
    a: Record<string, unknown>;
    b: Record<string, unknown>;
    top: Record<string, unknown>;
    ping: number;
    listed: string;
  }>(`
net = "v6net-${tag}"
c.create_network(net, enable_ipv6=True, ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="${prefix}::/64")]))
hc = c.create_host_config(network_mode=net)
a = c.create_container("busybox", "sleep 100", host_config=hc,
    networking_config=c.create_networking_config({net: c.create_endpoint_config(ipv6_address="${prefix}::f00d")}))
c.start(a)
b = c.create_container("busybox", "sleep 100", host_config=hc)
c.start(b)
e = c.exec_create(b, ["ping", "-6", "-c1", "-W3", "${prefix}::f00d"])
c.exec_start(e)
ni = c.inspect_network(net)
ia = c.inspect_container(a)
print(json.dumps({"enabled": ni["EnableIPv6"], "cfg": ni["IPAM"]["Config"],
    "a": ia["NetworkSettings"]["Networks"][net], "top": ia["NetworkSettings"],
    "b": c.inspect_container(b)["NetworkSettings"]["Networks"][net],
    "ping": c.exec_inspect(e)["ExitCode"], "listed": ni["Containers"][ia["Id"]]["IPv6Address"]}))
`);
  assert.equal(out.enabled, true);
  assert.deepEqual(
    out.cfg.map((x) => x.Subnet),
    [out.cfg[0]!.Subnet, `${prefix}::/64`],
  );
  assert.equal(out.cfg[1]!.Gateway, `${prefix}::1`);
  assert.deepEqual(out.a.IPAMConfig, { IPv6Address: `${prefix}::f00d` });
  assert.equal(out.a.GlobalIPv6Address, `${prefix}::f00d`);
  assert.equal(out.a.GlobalIPv6PrefixLen, 64);
  assert.equal(out.a.IPv6Gateway, `${prefix}::1`);
  assert.equal(out.top.GlobalIPv6Address, '');
  assert.match(String(out.b.GlobalIPv6Address), new RegExp(`^${prefix}::[0-9a-f]+$`));
  assert.notEqual(out.b.GlobalIPv6Address, out.a.GlobalIPv6Address);
  assert.equal(out.listed, `${prefix}::f00d/64`);
  assert.equal(out.ping, 0);
});

test('docker-py: an IPv6 pool without --ipv6 is kept and the requested v6 address recorded (Docker 20.10)', async () => {
  const prefix = `fd42:${v6(tag.slice(0, 4))}:${v6(`${tag.slice(4)}00`)}:2`;
  const out = await py<{ ipam: unknown; enabled: boolean }>(`
net = "v6off-${tag}"
c.create_network(net, ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="${prefix}::/64")]))
a = c.create_container("busybox", "sleep 100", host_config=c.create_host_config(network_mode=net),
    networking_config=c.create_networking_config({net: c.create_endpoint_config(ipv6_address="${prefix}::f00d")}))
c.start(a)
print(json.dumps({"ipam": c.inspect_container(a)["NetworkSettings"]["Networks"][net]["IPAMConfig"],
                  "enabled": c.inspect_network(net)["EnableIPv6"]}))
`);
  assert.deepEqual(out, { ipam: { IPv6Address: `${prefix}::f00d` }, enabled: false });
});

test('docker CLI: --ipv6 --subnet gives eth0 its address; --link on a user-defined network is a DNS name', async () => {
  const d = daemon.d;
  const prefix = `fd42:${v6(tag.slice(0, 4))}:${v6(`${tag.slice(4)}00`)}:3`;
  ok(await d.docker(['network', 'create', '--ipv6', '--subnet', `${prefix}::/64`, `cli6-${tag}`]));
  const addr = ok(
    await d.docker([
      'run',
      '--rm',
      '--network',
      `cli6-${tag}`,
      'busybox',
      'ip',
      '-6',
      'addr',
      'show',
      'eth0',
    ]),
  );
  assert.match(addr, new RegExp(`inet6 ${prefix}::2/64`));
  ok(
    await d.docker([
      'run',
      '-d',
      '--name',
      `tgt-${tag}`,
      '--network',
      `cli6-${tag}`,
      'busybox',
      'sleep',
      '100',
    ]),
  );
  const r = await d.docker([
    'run',
    '--rm',
    '--network',
    `cli6-${tag}`,
    '--link',
    `tgt-${tag}:db`,
    'busybox',
    'nslookup',
    'db',
  ]);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  // The embedded DNS answers AAAA with the container's IPv6 address.
  const aaaa = ok(
    await d.docker([
      'run',
      '--rm',
      '--network',
      `cli6-${tag}`,
      'busybox',
      'nslookup',
      '-type=aaaa',
      `tgt-${tag}`,
    ]),
  );
  assert.match(aaaa, new RegExp(`Address: ${prefix}::[0-9a-f]+`));
  ok(await d.docker(['rm', '-f', `tgt-${tag}`]));
  ok(await d.docker(['network', 'rm', `cli6-${tag}`]));
});
