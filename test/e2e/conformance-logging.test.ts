// Log options as docker-py's tests use them: max-file without max-size is accepted (nothing
// rotates then), the `none` driver is accepted, and an unknown driver is refused with Docker's
// own text, which clients compare.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

test('docker-py: json-file with max-file alone, none, and an unknown driver', async () => {
  const script = `
import docker, json
c = docker.APIClient(base_url="${daemon.d.host}", version="1.41")
out = {}
lc = docker.types.LogConfig(type="json-file", config={"max-file": "100"})
ct = c.create_container("busybox", ["true"], host_config=c.create_host_config(log_config=lc))
c.start(ct)
out["maxfile"] = c.inspect_container(ct)["HostConfig"]["LogConfig"]
try:
    c.create_container("busybox", ["true"], host_config=c.create_host_config(log_config=docker.types.LogConfig(type="asdf", config={})))
    out["unknown"] = None
except docker.errors.APIError as e:
    out["unknown"] = [e.status_code, e.explanation]
ct2 = c.create_container("busybox", ["true"], host_config=c.create_host_config(log_config=docker.types.LogConfig(type="", config={"max-file": "100"})))
out["default"] = c.inspect_container(ct2)["HostConfig"]["LogConfig"]
m = docker.DockerClient(base_url="${daemon.d.host}", version="1.41")
out["none"] = m.containers.run("busybox", "echo hello", log_config={"type": "none"}, name="lognone")
print(json.dumps(out))
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(out.maxfile, { Type: 'json-file', Config: { 'max-file': '100' } });
  assert.deepEqual(out.unknown, [400, "logger: no log driver named 'asdf' is registered"]);
  assert.equal(out.none, null);
  // No driver named: Docker reports its default by name.
  assert.deepEqual(out.default, { Type: 'json-file', Config: { 'max-file': '100' } });
  const plain = ok(await daemon.d.docker(['create', 'busybox', 'true'])).trim();
  assert.equal(
    ok(await daemon.d.docker(['inspect', '-f', '{{.HostConfig.LogConfig.Type}}', plain])),
    'json-file\n',
  );
  assert.equal(
    ok(await daemon.d.docker(['inspect', '-f', '{{.HostConfig.LogConfig.Type}}', 'lognone'])),
    'none\n',
  );
});

test('the docker CLI: --log-driver none runs, an unknown driver fails with the same text', async () => {
  const r = await daemon.d.docker(['run', '--rm', '--log-driver', 'none', 'busybox', 'true']);
  assert.equal(r.code, 0, r.stderr);
  const bad = await daemon.d.docker(['create', '--log-driver', 'nope', 'busybox']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /logger: no log driver named 'nope' is registered/);
});
