// docker-py's container contract (issue 15, the containers slice), each through docker-py
// itself: kill answers once the container is seen exited; commit of a container that exits
// meanwhile ignores the failed pause; cp (archive) reaches volumes and binds before and after
// start without leaving the mount's source; a restarting container is not removable without
// force and `update` changes the restart policy; Env entries without `=` kept; a bad
// images/load body answers 200 with the error in the stream; link env and link removal;
// kill/stop events in Docker's order; host and container: network identities.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

/** Runs a docker-py script (with `c`, an APIClient on this daemon) and parses its JSON output. */
async function py<T>(body: string): Promise<T> {
  const script = `
import docker, json, io, tarfile, time
c = docker.APIClient(base_url="${daemon.d.host}", version="1.41", timeout=60)
${body}
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

test('kill answers once the container is seen exited: inspect right after shows exited, 137', async () => {
  const out = await py<{ status: string; code: number; running: boolean }[]>(`
res = []
for i in range(3):
    ct = c.create_container("busybox", "sleep 60", host_config=c.create_host_config(network_mode="none"))
    c.start(ct)
    c.kill(ct)
    s = c.inspect_container(ct)["State"]
    res.append({"status": s["Status"], "code": s["ExitCode"], "running": s["Running"]})
    c.remove_container(ct, force=True)
print(json.dumps(res))
`);
  for (const s of out) assert.deepEqual(s, { status: 'exited', code: 137, running: false });
});

test('commit (pause on) of containers that exit at once, or are stopped, succeeds', async () => {
  const out = await py<{ parents: boolean[]; stopped: boolean }>(`
base = c.inspect_image("busybox")["Id"]
parents = []
for i in range(4):
    ct = c.create_container("busybox", ["touch", "/test"], host_config=c.create_host_config(network_mode="none"))
    c.start(ct)
    img = c.commit(ct)["Id"]
    parents.append(c.inspect_image(img)["Parent"] == base)
    c.remove_container(ct, force=True)
    c.remove_image(img, force=True)
ct = c.create_container("busybox", ["touch", "/test"], host_config=c.create_host_config(network_mode="none"))
c.start(ct); c.wait(ct)
img = c.commit(ct, pause=True)["Id"]
stopped = c.inspect_image(img)["Parent"] == base
c.remove_container(ct, force=True); c.remove_image(img, force=True)
print(json.dumps({"parents": parents, "stopped": stopped}))
`);
  assert.deepEqual(out, { parents: [true, true, true, true], stopped: true });
});

test('archive GET/PUT reach volumes and binds, before and after start, and stay inside them', async (t) => {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-cp-mounts-'));
  t.after(() => fsp.rm(tmp, { recursive: true, force: true }));
  const bind = path.join(tmp, 'bind');
  await fsp.mkdir(bind);
  await fsp.writeFile(path.join(tmp, 'canary'), 'host canary');
  await fsp.writeFile(path.join(bind, 'from-host'), 'in the bind');
  const out = await py<Record<string, unknown>>(`
def tar_of(name, data):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
def get(ct, p):
    try:
        strm, stat = c.get_archive(ct, p)
    except docker.errors.NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(strm))) as t:
        m = t.getmembers()[0]
        return {"name": stat["name"], "size": stat["size"], "data": t.extractfile(m).read().decode() if m.isfile() else None}
hc = c.create_host_config(binds={${JSON.stringify(bind)}: {"bind": "/b", "ro": False}}, network_mode="none")
ct = c.create_container("busybox", 'sh -c "cat /vol1/put.txt /b/put.txt; echo written > /vol1/data.txt; ln -s / /vol1/up; ln -s /vol1 /link; sleep 30"', volumes=["/vol1"], host_config=hc)
r = {}
# Before start: into the anonymous volume and the bind.
c.put_archive(ct, "/vol1", tar_of("put.txt", b"to the volume\\n"))
c.put_archive(ct, "/b", tar_of("put.txt", b"to the bind\\n"))
r["bindBefore"] = get(ct, "/b/from-host")
c.start(ct)
deadline = time.time() + 20
while b"to the bind" not in c.logs(ct) and time.time() < deadline: time.sleep(0.1)
time.sleep(0.3)
r["logs"] = c.logs(ct).decode()
# While running: what the process wrote into the volume.
r["running"] = get(ct, "/vol1/data.txt")
# A symlink inside the volume pointing at / does not lead to the host.
r["throughLink"] = get(ct, "/vol1/up${tmp}/canary")
c.put_archive(ct, "/vol1/up", tar_of("dropped", b"x"))
# A symlink of the rootfs into the volume leads into the volume, as in the container.
r["viaLink"] = get(ct, "/link/data.txt")
c.put_archive(ct, "/link", tar_of("via-link.txt", b"through the link"))
c.kill(ct)
r["stopped"] = get(ct, "/vol1/data.txt")
r["viaLinkPut"] = get(ct, "/vol1/via-link.txt")
r["mountDir"] = c.get_archive(ct, "/vol1")[1]["name"]
c.remove_container(ct, force=True, v=True)
print(json.dumps(r))
`);
  assert.deepEqual(out.bindBefore, { name: 'from-host', size: 11, data: 'in the bind' });
  assert.equal(out.logs, 'to the volume\nto the bind\n');
  assert.deepEqual(out.running, { name: 'data.txt', size: 8, data: 'written\n' });
  assert.deepEqual(out.stopped, { name: 'data.txt', size: 8, data: 'written\n' });
  assert.deepEqual(out.viaLink, { name: 'data.txt', size: 8, data: 'written\n' });
  assert.deepEqual(out.viaLinkPut, { name: 'via-link.txt', size: 16, data: 'through the link' });
  assert.equal(out.mountDir, 'vol1');
  // The link resolves inside the volume (which has no such path), never to the host's file.
  assert.equal(out.throughLink, null);
  assert.equal(await fsp.readFile(path.join(bind, 'put.txt'), 'utf8'), 'to the bind\n');
  assert.deepEqual((await fsp.readdir(tmp)).sort(), ['bind', 'canary']);
  assert.equal(await fsp.readFile(path.join(tmp, 'canary'), 'utf8'), 'host canary');
  await assert.rejects(fsp.stat('/dropped'));
});

test('a read-only bind refuses cp into it; a read-write volume takes it on a read-only rootfs', async (t) => {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-cp-ro-'));
  t.after(() => fsp.rm(tmp, { recursive: true, force: true }));
  const out = await py<{ ro: number; rw: string }>(`
b = io.BytesIO()
with tarfile.open(fileobj=b, mode="w") as t:
    ti = tarfile.TarInfo("f"); ti.size = 1; t.addfile(ti, io.BytesIO(b"x"))
hc = c.create_host_config(binds={${JSON.stringify(tmp)}: {"bind": "/ro", "ro": True}}, read_only=True, network_mode="none")
ct = c.create_container("busybox", "true", volumes=["/rw"], host_config=hc)
try:
    c.put_archive(ct, "/ro", b.getvalue()); ro = 0
except docker.errors.APIError as e:
    ro = e.response.status_code
c.put_archive(ct, "/rw", b.getvalue())
rw = c.get_archive(ct, "/rw/f")[1]["name"]
c.remove_container(ct, force=True, v=True)
print(json.dumps({"ro": ro, "rw": rw}))
`);
  assert.deepEqual(out, { ro: 403, rw: 'f' });
  assert.deepEqual(await fsp.readdir(tmp), []);
});

test('a restarting container is not removed without force; update changes the restart policy', async () => {
  const out = await py<{ err: string; status: number; policy: unknown; restarted: boolean }>(`
ct = c.create_container("busybox", "false", host_config=c.create_host_config(restart_policy={"Name": "always"}, network_mode="none"))
c.start(ct)
c.wait(ct)
try:
    c.remove_container(ct); err = ""; status = 0
except docker.errors.APIError as e:
    err = e.explanation.lower(); status = e.response.status_code
c.remove_container(ct, force=True)
ct = c.create_container("busybox", ["sh", "-c", "sleep 1; exit 3"], host_config=c.create_host_config(network_mode="none"))
c.start(ct)
c.update_container(ct, restart_policy={"Name": "on-failure", "MaximumRetryCount": 42})
policy = c.inspect_container(ct)["HostConfig"]["RestartPolicy"]
deadline = time.time() + 20
while c.inspect_container(ct)["RestartCount"] == 0 and time.time() < deadline: time.sleep(0.2)
restarted = c.inspect_container(ct)["RestartCount"] > 0
c.remove_container(ct, force=True)
print(json.dumps({"err": err, "status": status, "policy": policy, "restarted": restarted}))
`);
  assert.equal(out.status, 409);
  assert.match(out.err, /stop the container before removing or force remove/);
  assert.deepEqual(out.policy, { Name: 'on-failure', MaximumRetryCount: 42 });
  assert.equal(out.restarted, true);
});

test('Env entries without = are kept in Config.Env and unset in the process', async () => {
  const out = await py<{ env: string[]; seen: string }>(`
ct = c.create_container("busybox", ["sh", "-c", "env | grep -E '^(Foo|Other|Blank)' | sort"], environment={"Foo": None, "Other": "one", "Blank": ""}, host_config=c.create_host_config(network_mode="none"))
env = c.inspect_container(ct)["Config"]["Env"]
c.start(ct); c.wait(ct)
seen = c.logs(ct).decode()
c.remove_container(ct, force=True)
print(json.dumps({"env": env, "seen": seen}))
`);
  assert.ok(out.env.includes('Foo'), JSON.stringify(out.env));
  assert.ok(out.env.includes('Other=one'));
  assert.ok(out.env.includes('Blank='));
  assert.equal(out.seen, 'Blank=\nOther=one\n');
});

test('images.load of a body that is no archive raises ImageLoadError (200, error in the stream)', async () => {
  const out = await py<{ kind: string }>(`
cl = docker.DockerClient(base_url="${daemon.d.host}", version="1.41")
try:
    cl.images.load("abc"); kind = "none"
except docker.errors.ImageLoadError as e:
    kind = "ImageLoadError"
except docker.errors.APIError as e:
    kind = "APIError %d" % e.response.status_code
print(json.dumps({"kind": kind}))
`);
  assert.equal(out.kind, 'ImageLoadError');
  const ping = await daemon.d.request('GET', '/_ping');
  assert.equal(ping.status, 200);
});

test('legacy links: the link environment, and DELETE /containers/{parent}/{alias}?link=1', async () => {
  const out = await py<Record<string, unknown>>(`
db = c.create_container("busybox", "sleep 30", environment={"FOO": "1"}, ports=[5432], name="pydb")
c.start(db)
web = c.create_container("busybox", "sh -c 'env; sleep 30'", name="pyweb", host_config=c.create_host_config(links={"pydb": "my-db"}, network_mode="bridge"))
c.start(web)
deadline = time.time() + 20
while b"MY_DB_NAME" not in c.logs(web) and time.time() < deadline: time.sleep(0.1)
env = sorted(l for l in c.logs(web).decode().split("\\n") if l.startswith("MY_DB_"))
ip = c.inspect_container(db)["NetworkSettings"]["IPAddress"]
try:
    c.remove_container("pydb", link=True); bare = 0
except docker.errors.APIError as e:
    bare = e.response.status_code
c.remove_container("pyweb/my-db", link=True)
links = c.inspect_container(web)["HostConfig"]["Links"]
try:
    c.remove_container("pyweb/my-db", link=True); again = 0
except docker.errors.APIError as e:
    again = e.response.status_code
names = sorted(n for x in c.containers(all=True) for n in x["Names"])
c.remove_container(web, force=True); c.remove_container(db, force=True)
print(json.dumps({"env": env, "ip": ip, "bare": bare, "links": links, "again": again, "names": names}))
`);
  const ip = out.ip as string;
  assert.deepEqual(out.env, [
    'MY_DB_ENV_FOO=1',
    'MY_DB_NAME=/pyweb/my-db',
    `MY_DB_PORT=tcp://${ip}:5432`,
    `MY_DB_PORT_5432_TCP=tcp://${ip}:5432`,
    `MY_DB_PORT_5432_TCP_ADDR=${ip}`,
    'MY_DB_PORT_5432_TCP_PORT=5432',
    'MY_DB_PORT_5432_TCP_PROTO=tcp',
  ]);
  assert.equal(out.bare, 409);
  assert.ok(!JSON.stringify(out.links ?? []).includes('my-db'), JSON.stringify(out.links));
  assert.equal(out.again, 404);
  assert.deepEqual(out.names, ['/pydb', '/pyweb']);
});

test('events: kill is a kill before the die; stop is kill (the stop signal), die, stop; rm -f kill, die, destroy', async () => {
  const since = Date.now() / 1000;
  const d = daemon.d;
  const k = (
    await d.docker(['run', '-d', '--name', 'ev-kill', '--network', 'none', 'busybox', 'sleep', '60'])
  ).stdout.trim();
  assert.equal((await d.docker(['kill', k])).code, 0);
  const s = (
    await d.docker(['run', '-d', '--name', 'ev-stop', '--network', 'none', 'busybox', 'sleep', '60'])
  ).stdout.trim();
  assert.equal((await d.docker(['stop', '-t', '0', s])).code, 0);
  const f = (
    await d.docker(['run', '-d', '--name', 'ev-rm', '--network', 'none', 'busybox', 'sleep', '60'])
  ).stdout.trim();
  assert.equal((await d.docker(['rm', '-f', f])).code, 0);
  await d.docker(['rm', '-f', k, s]);
  const until = Date.now() / 1000 + 0.5;
  const r = await d.docker([
    'events',
    '--since',
    since.toFixed(3),
    '--until',
    until.toFixed(3),
    '--filter',
    'type=container',
    '--format',
    '{{index .Actor.Attributes "name"}} {{.Action}} {{index .Actor.Attributes "signal"}}',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const of = (name: string) =>
    r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith(`${name} `))
      .map((l) => l.slice(name.length + 1).trim())
      .filter((a) => !a.startsWith('create') && !a.startsWith('start'));
  assert.deepEqual(of('ev-kill').slice(0, 2), ['kill 9', 'die']);
  assert.deepEqual(of('ev-stop').slice(0, 4), ['kill 15', 'kill 9', 'die', 'stop']);
  assert.deepEqual(of('ev-rm'), ['kill 9', 'die', 'destroy']);
});

test("--network host has the host's hostname and hosts; --network container:X has X's hostname, hosts, resolv.conf", async () => {
  const d = daemon.d;
  const host = await d.docker([
    'run',
    '--rm',
    '--network',
    'host',
    'busybox',
    'sh',
    '-c',
    'hostname; cat /etc/hosts',
  ]);
  assert.equal(host.code, 0, host.stderr);
  const [name, ...hostsLines] = host.stdout.split('\n');
  assert.equal(name, os.hostname());
  const hostHosts = (await fsp.readFile('/etc/hosts', 'utf8')).split('\n').filter((l) => /\S/.test(l));
  for (const l of hostHosts) assert.ok(hostsLines.includes(l), `${l} missing from ${hostsLines.join('|')}`);
  const x = (await d.docker(['run', '-d', '--name', 'netx', 'busybox', 'sleep', '30'])).stdout.trim();
  try {
    const ip = (await d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', x])).stdout.trim();
    const xFiles = await d.docker(['exec', x, 'cat', '/etc/hosts', '/etc/resolv.conf']);
    const j = await d.docker([
      'run',
      '--rm',
      '--network',
      'container:netx',
      'busybox',
      'sh',
      '-c',
      'hostname; hostname -i; cat /etc/hosts /etc/resolv.conf',
    ]);
    assert.equal(j.code, 0, j.stderr);
    const [jName, jIp, ...files] = j.stdout.split('\n');
    assert.equal(jName, x.slice(0, 12));
    assert.equal(jIp, ip);
    assert.equal(files.join('\n'), xFiles.stdout);
  } finally {
    await d.docker(['rm', '-f', x]);
  }
});

test('exec and healthcheck probes emit exec_create, exec_start, exec_die; then health_status', async () => {
  const d = daemon.d;
  const since = Date.now() / 1000;
  const ct = (
    await d.docker([
      'run',
      '-d',
      '--network',
      'none',
      '--health-cmd',
      'exit 0',
      '--health-interval',
      '500ms',
      'busybox',
      'sleep',
      '30',
    ])
  ).stdout.trim();
  try {
    assert.equal((await d.docker(['exec', ct, 'sh', '-c', 'exit 3'])).code, 3);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const s = await d.docker(['inspect', '-f', '{{.State.Health.Status}}', ct]);
      if (s.stdout.trim() === 'healthy') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const until = Date.now() / 1000 + 0.3;
    const r = await d.docker([
      'events',
      '--since',
      since.toFixed(3),
      '--until',
      until.toFixed(3),
      '--filter',
      `container=${ct}`,
      '--format',
      '{{.Action}}|{{index .Actor.Attributes "exitCode"}}|{{if index .Actor.Attributes "execID"}}id{{end}}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const user = lines.filter((l) => l.includes('exit 3') || l === 'exec_die|3|id');
    assert.deepEqual(user, [
      'exec_create: sh -c exit 3||id',
      'exec_start: sh -c exit 3||id',
      'exec_die|3|id',
    ]);
    // The user's exec may interleave with the first probe's events on a loaded machine: the
    // probe's own sequence is checked without them.
    const probes = lines.filter((l) => !(l.includes('exit 3') || l === 'exec_die|3|id'));
    const probe = probes.indexOf('exec_create: /bin/sh -c exit 0||id');
    assert.ok(probe >= 0, r.stdout);
    assert.deepEqual(probes.slice(probe + 1, probe + 4), [
      'exec_start: /bin/sh -c exit 0||id',
      'exec_die|0|id',
      'health_status: healthy||',
    ]);
  } finally {
    await d.docker(['rm', '-f', ct]);
  }
});
