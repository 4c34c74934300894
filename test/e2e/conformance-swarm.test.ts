// Swarm endpoints answer as a Docker daemon outside any swarm: 503 with moby's texts. docker-py's
// network tests call `leave_swarm(force=True)` in their tear-down and failed on the 404 Berth
// answered before.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.cleanup();
});

const NO_SWARM = 'This node is not part of a swarm';
const NOT_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

test("docker-py: leave_swarm, inspect_swarm and the swarm collections answer 503 as Docker's", async () => {
  const script = `
import docker, json
c = docker.APIClient(base_url="${d.host}", version="1.41")
out = {"forced": c.leave_swarm(force=True)}
def err(f):
    try:
        f()
        return None
    except docker.errors.APIError as e:
        return [e.status_code, e.explanation]
out["leave"] = err(lambda: c.leave_swarm())
out["inspect"] = err(c.inspect_swarm)
for name in ["nodes", "services", "tasks", "secrets", "configs"]:
    out[name] = err(getattr(c, name))
out["state"] = c.info()["Swarm"]["LocalNodeState"]
print(json.dumps(out))
`;
  const r = await run('python3', ['-c', script]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(out.forced, true);
  assert.deepEqual(out.leave, [503, NO_SWARM]);
  assert.deepEqual(out.inspect, [503, NOT_MANAGER]);
  for (const name of ['nodes', 'services', 'tasks', 'secrets', 'configs'])
    assert.deepEqual(out[name], [503, NOT_MANAGER], name);
  assert.equal(out.state, 'inactive');
});

test('every swarm path and method of the spec answers 503 with a message, versioned or not', async () => {
  const endpoints: [string, string][] = [
    ['GET', '/swarm'],
    ['POST', '/swarm/init'],
    ['POST', '/swarm/join'],
    ['POST', '/swarm/leave?force=1'],
    ['POST', '/swarm/update?version=1'],
    ['GET', '/swarm/unlockkey'],
    ['POST', '/swarm/unlock'],
    ['GET', '/nodes'],
    ['GET', '/nodes/n1'],
    ['DELETE', '/nodes/n1'],
    ['POST', '/nodes/n1/update?version=1'],
    ['GET', '/services'],
    ['POST', '/services/create'],
    ['GET', '/services/s1'],
    ['DELETE', '/services/s1'],
    ['POST', '/services/s1/update?version=1'],
    ['GET', '/services/s1/logs?stdout=1'],
    ['GET', '/tasks'],
    ['GET', '/tasks/t1'],
    ['GET', '/tasks/t1/logs?stdout=1'],
    ['GET', '/secrets'],
    ['POST', '/secrets/create'],
    ['GET', '/secrets/x1'],
    ['DELETE', '/secrets/x1'],
    ['POST', '/secrets/x1/update?version=1'],
    ['GET', '/configs'],
    ['POST', '/configs/create'],
    ['GET', '/configs/c1'],
    ['DELETE', '/configs/c1'],
    ['POST', '/configs/c1/update?version=1'],
  ];
  for (const [method, p] of endpoints) {
    for (const prefix of ['', '/v1.41']) {
      const body = method === 'POST' ? '{"Name":"x"}' : undefined;
      const r = await d.request(method, `${prefix}${p}`, body, { 'Content-Type': 'application/json' });
      assert.equal(r.status, 503, `${method} ${prefix}${p}: ${r.body.toString()}`);
      const msg = (JSON.parse(r.body.toString()) as { message: string }).message;
      assert.ok(msg.startsWith('This node is not'), `${method} ${p}: ${msg}`);
    }
  }
  const leave = await d.request('POST', '/swarm/leave');
  assert.equal(JSON.parse(leave.body.toString()).message, NO_SWARM);
});

test('the docker CLI reports the daemon is no swarm manager', async () => {
  const r = await d.docker(['node', 'ls']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /This node is not a swarm manager/);
  const info = await d.docker(['info', '--format', '{{.Swarm.LocalNodeState}}']);
  assert.equal(info.stdout.trim(), 'inactive', info.stderr);
});
