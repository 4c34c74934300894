// `stats` carries `networks`, per-interface counters of the container's namespace, as Docker's
// does (docker-py's stats tests look for the key); without a network there is none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();

test('docker-py: stats(stream=False) has networks.eth0 counters; --network none has none', async () => {
  const script = `
import docker, json
c = docker.DockerClient(base_url="${daemon.d.host}", version="1.41")
a = c.containers.run("busybox", "sleep 100", detach=True, name="st-bridge")
b = c.containers.run("busybox", "sleep 100", detach=True, name="st-none", network_mode="none")
print(json.dumps({"bridge": a.stats(stream=False).get("networks"), "none": "networks" in b.stats(stream=False)}))
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { bridge: Record<string, Record<string, number>>; none: boolean };
  assert.deepEqual(Object.keys(out.bridge), ['eth0']);
  for (const k of [
    'rx_bytes',
    'rx_packets',
    'rx_errors',
    'rx_dropped',
    'tx_bytes',
    'tx_packets',
    'tx_errors',
    'tx_dropped',
  ])
    assert.equal(typeof out.bridge.eth0![k], 'number', k);
  assert.equal(out.none, false);
});

test('the docker CLI shows the network I/O column from those counters', async () => {
  const line = ok(
    await daemon.d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.NetIO}}', 'st-bridge']),
  );
  assert.match(line, /^st-bridge \d+(\.\d+)?k?B \/ \d+(\.\d+)?k?B\n$/);
});
