// testcontainers for Node against a real berthd, the less common paths: images built with
// GenericContainer.fromDockerfile, reuse (found again by label and status filters), commit with
// changes, one-shot containers, wait strategies that must fail (and clean up), log consumers,
// container options checked from inside, fixed and UDP ports, stop timeouts and large exec output.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import tarStream from 'tar-stream';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { ok } from '../helpers/e2e.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

const IMAGE = 'busybox:latest';
const STARTUP_MS = 30_000;

// See testcontainers.test.ts for why testcontainers is imported only once the daemon is up, why
// Ryuk is disabled (its image is on Docker Hub, out of reach here; each test removes what it
// started and the last one checks nothing is left) and why the host is pinned to loopback.
let tc: typeof import('testcontainers');
let scratch = '';
const daemon = {} as { d: TestDaemon };

before(async () => {
  daemon.d = await startTestDaemon();
  ok(await daemon.d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']));
  process.env.DOCKER_HOST = daemon.d.host;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  tc = await import('testcontainers');
  scratch = await mkdtemp(path.join(os.tmpdir(), 'berth-tc-'));
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
  const d = daemon.d;
  if (!d) return;
  const ids = (await d.berth(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
  if (ids.length > 0) await d.berth(['rm', '-f', ...ids]);
  await d.cleanup();
});

/** Collects a stream until `want` appears (bounded by `ms`). */
function waitInStream(stream: Readable, want: string, ms = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`"${want}" not in the stream after ${ms} ms; saw: ${JSON.stringify(seen)}`));
    }, ms);
    stream.on('data', (c: Buffer | string) => {
      seen += c.toString();
      if (seen.includes(want)) {
        clearTimeout(timer);
        stream.destroy();
        resolve(seen);
      }
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** A loopback port free right now (for a fixed host binding). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const containerCount = async () =>
  ok(await daemon.d.docker(['ps', '-aq']))
    .trim()
    .split('\n')
    .filter(Boolean).length;

test('the runtime client: info from /info, image exists or not', async () => {
  const client = await tc.getContainerRuntimeClient();
  const info = client.info.containerRuntime;
  assert.equal(info.host, '127.0.0.1');
  assert.ok(info.serverVersion, 'ServerVersion');
  assert.equal(info.operatingSystemType, 'linux');
  assert.ok(info.cpus > 0 && info.memory > 0, `${info.cpus} cpus, ${info.memory} bytes`);
  assert.ok(info.runtimes.includes('runc'), info.runtimes.join(','));
  assert.equal(await client.image.exists(tc.ImageName.fromString(IMAGE)), true);
  // testcontainers decides to pull by the 404's "No such image" text; anything else throws.
  assert.equal(await client.image.exists(tc.ImageName.fromString('berth-test/absent:1')), false);
});

test('GenericContainer.fromDockerfile: build args, target, labels; the built image runs', async () => {
  const ctx = path.join(scratch, 'ctx');
  await mkdir(ctx, { recursive: true });
  await writeFile(
    path.join(ctx, 'Dockerfile'),
    [
      'FROM busybox:latest AS base',
      'ARG FLAVOUR=plain',
      'RUN echo "$FLAVOUR" > /flavour',
      'COPY hello.txt /hello.txt',
      'FROM base AS final',
      'RUN echo final > /stage',
      'FROM base AS other',
      'RUN echo other > /stage',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(ctx, 'hello.txt'), 'built by testcontainers\n');
  await writeFile(path.join(ctx, '.dockerignore'), 'ignored.txt\n');
  await writeFile(path.join(ctx, 'ignored.txt'), 'x');
  const built = await tc.GenericContainer.fromDockerfile(ctx)
    .withBuildArgs({ FLAVOUR: 'salted' })
    .withTarget('final')
    .build('berth-tc/built:1', { deleteOnExit: false });
  const labels = JSON.parse(
    ok(await daemon.d.docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', 'berth-tc/built:1'])),
  );
  assert.equal(labels['org.testcontainers'], 'true');
  assert.equal(labels['org.testcontainers.session-id'], undefined);
  const c = await built
    .withCommand(['sleep', '300'])
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    assert.equal(
      (await c.exec(['cat', '/flavour', '/hello.txt', '/stage'])).stdout,
      'salted\nbuilt by testcontainers\nfinal\n',
    );
  } finally {
    await c.stop();
  }
  // The default name is localhost/<uuid>:<uuid>, a reference with a registry host.
  const anon = await tc.GenericContainer.fromDockerfile(ctx).withTarget('other').build();
  const c2 = await anon
    .withCommand(['cat', '/stage'])
    .withWaitStrategy(tc.Wait.forOneShotStartup())
    .withStartupTimeout(STARTUP_MS)
    .start();
  const logs = await waitInStream(await c2.logs(), 'other');
  assert.match(logs, /^other\n/);
  await c2.stop();
  const tags = ok(await daemon.d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']));
  assert.match(tags, /^localhost\/[0-9a-f-]+:[0-9a-f-]+$/m);
  for (const t of tags.split('\n').filter((l) => l.startsWith('localhost/') || l.startsWith('berth-tc/')))
    ok(await daemon.d.docker(['rmi', t]));
  // A Dockerfile that fails: testcontainers reads the stream and then finds no image.
  await writeFile(path.join(ctx, 'Broken'), 'FROM busybox:latest\nRUN exit 7\n');
  await assert.rejects(tc.GenericContainer.fromDockerfile(ctx, 'Broken').build(), /Failed to build image/);
});

test('withReuse finds the running container again by its hash label', async () => {
  const make = () =>
    new tc.GenericContainer(IMAGE)
      .withCommand(['sleep', '300'])
      .withLabels({ 'com.example.reuse': 'yes' })
      .withReuse()
      .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
      .withStartupTimeout(STARTUP_MS);
  const a = await make().start();
  try {
    const b = await make().start();
    assert.equal(b.getId(), a.getId());
    // A stopped (exited) reusable container is found by the status filter and started again.
    await a.stop({ remove: false });
    const c = await make().start();
    assert.equal(c.getId(), a.getId());
    assert.match(ok(await daemon.d.docker(['inspect', '-f', '{{.State.Status}}', c.getId()])), /^running/);
  } finally {
    await a.stop({ remove: false });
    ok(await daemon.d.docker(['rm', '-f', a.getId()]));
  }
});

test('commit with changes: the image has the new config and the session label', async () => {
  const c = await new tc.GenericContainer(IMAGE)
    .withCommand(['sleep', '300'])
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    await c.exec(['sh', '-c', 'echo committed > /marker']);
    const id = await c.commit({
      repo: 'berth-tc/committed',
      tag: 'v1',
      changes: ['ENV COMMITTED=yes', 'LABEL stage=two'],
    });
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const cfg = JSON.parse(
      ok(await daemon.d.docker(['image', 'inspect', '-f', '{{json .Config}}', 'berth-tc/committed:v1'])),
    ) as {
      Env: string[];
      Labels: Record<string, string>;
    };
    assert.ok(cfg.Env.includes('COMMITTED=yes'), cfg.Env.join(','));
    assert.equal(cfg.Labels.stage, 'two');
    assert.ok(cfg.Labels['org.testcontainers.session-id'], 'deleteOnExit labels the image with the session');
    const d = await new tc.GenericContainer('berth-tc/committed:v1')
      .withCommand(['sh', '-c', 'cat /marker; echo "$COMMITTED"'])
      .withWaitStrategy(tc.Wait.forOneShotStartup())
      .withStartupTimeout(STARTUP_MS)
      .start();
    assert.equal(await waitInStream(await d.logs(), 'yes\n'), 'committed\nyes\n');
    await d.stop();
  } finally {
    await c.stop();
    await daemon.d.docker(['rmi', 'berth-tc/committed:v1']);
  }
});

test('wait strategies that fail reject start and remove the container', async () => {
  const before = await containerCount();
  // The container exits without the line: the followed log stream ends.
  await assert.rejects(
    new tc.GenericContainer(IMAGE)
      .withCommand(['sh', '-c', 'echo something else'])
      .withWaitStrategy(tc.Wait.forLogMessage('never printed'))
      .withStartupTimeout(STARTUP_MS)
      .start(),
    /Log stream ended and message "never printed" was not received/,
  );
  // The container keeps running without the line: the startup timeout fires.
  await assert.rejects(
    new tc.GenericContainer(IMAGE)
      .withCommand(['sleep', '300'])
      .withWaitStrategy(tc.Wait.forLogMessage('never printed'))
      .withStartupTimeout(1_500)
      .start(),
    /not received after 1500ms/,
  );
  // A one-shot container that fails.
  await assert.rejects(
    new tc.GenericContainer(IMAGE)
      .withCommand(['sh', '-c', 'exit 3'])
      .withWaitStrategy(tc.Wait.forOneShotStartup())
      .withStartupTimeout(STARTUP_MS)
      .start(),
    /Container failed to start/,
  );
  // forHttp with abortOnContainerExit reports the container's last logs.
  await assert.rejects(
    new tc.GenericContainer(IMAGE)
      .withCommand(['sh', '-c', 'echo "bye from the server"; sleep 0.5; exit 1'])
      .withExposedPorts(8080)
      .withWaitStrategy(tc.Wait.forHttp('/', 8080, { abortOnContainerExit: true }))
      .withStartupTimeout(STARTUP_MS)
      .start(),
    /Container exited during HTTP healthCheck, last 50 logs: bye from the server/,
  );
  assert.equal(await containerCount(), before);
});

test('log message counted several times; a log consumer sees stdout and stderr', async () => {
  const lines: string[] = [];
  const c = await new tc.GenericContainer(IMAGE)
    .withCommand([
      'sh',
      '-c',
      'for i in 1 2 3; do echo tick $i; echo "err $i" >&2; sleep 0.2; done; exec sleep 300',
    ])
    .withLogConsumer((stream) => stream.on('data', (l: string) => lines.push(l)))
    .withWaitStrategy(tc.Wait.forLogMessage(/tick \d/, 3))
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    const deadline = Date.now() + 10_000;
    while (!lines.join('').includes('err 3') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const text = lines.join('');
    assert.match(text, /tick 1\n[\s\S]*tick 3\n/);
    assert.match(text, /err 3\n/);
  } finally {
    await c.stop();
  }
});

test('container options reach the container', async () => {
  const name = `tc-options-${process.pid}`;
  const c = await new tc.GenericContainer(IMAGE)
    .withName(name)
    .withHostname('tc-host')
    .withEntrypoint(['sh', '-c'])
    .withCommand(['exec sleep 300'])
    .withWorkingDir('/tmp')
    .withUser('1234:5678')
    .withExtraHosts([{ host: 'db.example', ipAddress: '10.9.8.7' }])
    .withUlimits({ nofile: { soft: 512, hard: 1024 } })
    .withAddedCapabilities('NET_ADMIN')
    .withDroppedCapabilities('CHOWN')
    .withResourcesQuota({ memory: 0.25, cpu: 0.5 })
    .withSharedMemorySize(32 * 1024 * 1024)
    .withDefaultLogDriver()
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    assert.equal(c.getName(), `/${name}`);
    assert.equal(c.getHostname(), 'tc-host');
    const r = await c.exec([
      'sh',
      '-c',
      'hostname; pwd; id -u; id -g; grep db.example /etc/hosts; grep "open files" /proc/1/limits',
    ]);
    assert.equal(r.exitCode, 0, r.output);
    // The container's own process (PID 1) has the ulimit. (An exec's soft limit was seen at
    // 1024 now and then instead of 512: left for a follow-up, see the report.)
    assert.match(
      r.stdout,
      /^tc-host\n\/tmp\n1234\n5678\n10\.9\.8\.7\s+db\.example\nMax open files\s+512\s+1024\s+files\s*\n$/,
    );
    const caps = (await c.exec(['sh', '-c', 'grep CapBnd /proc/self/status'])).stdout;
    const bnd = BigInt(`0x${caps.split(/\s+/)[1]}`);
    assert.equal((bnd >> 12n) & 1n, 1n, 'CAP_NET_ADMIN added');
    assert.equal(bnd & 1n, 0n, 'CAP_CHOWN dropped');
    const shm = (await c.exec(['sh', '-c', 'grep " /dev/shm " /proc/mounts'])).stdout;
    assert.match(shm, /size=32768k/);
    const host = JSON.parse(
      ok(await daemon.d.docker(['inspect', '-f', '{{json .HostConfig}}', c.getId()])),
    ) as { Memory: number; NanoCpus: number; LogConfig: { Type: string } };
    assert.equal(host.Memory, Math.ceil(0.25 * 1024 ** 3));
    assert.equal(host.NanoCpus, 5e8);
    assert.equal(host.LogConfig.Type, 'json-file');
  } finally {
    await c.stop();
  }
  const none = await new tc.GenericContainer(IMAGE)
    .withNetworkMode('none')
    .withCommand(['sleep', '300'])
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    assert.deepEqual(none.getNetworkNames(), ['none']);
    const links = (await none.exec(['sh', '-c', 'ls /sys/class/net'])).stdout.trim().split(/\s+/);
    assert.deepEqual(links, ['lo']);
  } finally {
    await none.stop();
  }
});

test('fixed and UDP port bindings; a network joined by mode; copyArchiveToContainer', async () => {
  const fixed = await freePort();
  const network = await new tc.Network().start();
  try {
    // The default wait strategy (listening ports) checks TCP 9000 and skips the UDP port.
    const c = await new tc.GenericContainer(IMAGE)
      .withNetworkMode(network.getName())
      .withCommand(['nc', '-ll', '-p', '9000', '-e', 'echo', 'pong'])
      .withExposedPorts({ container: 9000, host: fixed }, '9001/udp')
      .withStartupTimeout(STARTUP_MS)
      .start();
    try {
      assert.equal(c.getMappedPort(9000), fixed);
      assert.ok(c.getMappedPort(9001, 'udp') > 0);
      assert.deepEqual(c.getNetworkNames(), [network.getName()]);
      assert.equal(c.getNetworkId(network.getName()), network.getId());
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(fixed, '127.0.0.1');
        let got = '';
        s.setTimeout(5_000, () => s.destroy(new Error('timeout')));
        s.on('data', (b) => (got += b.toString()));
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
      assert.equal(reply, 'pong\n');
      const pack = tarStream.pack();
      pack.entry({ name: 'etc/app.conf', mode: 0o640 }, 'key=value\n');
      pack.entry({ name: 'bin/tool', mode: 0o755 }, '#!/bin/sh\necho tool ran\n');
      pack.finalize();
      // As Docker, the target directory must exist.
      await assert.rejects(
        c.copyArchiveToContainer(pack as unknown as Readable, '/opt'),
        /HTTP code 404\) .*Could not find the file \/opt in container/,
      );
      assert.equal((await c.exec(['mkdir', '/opt'])).exitCode, 0);
      const again = tarStream.pack();
      again.entry({ name: 'etc/app.conf', mode: 0o640 }, 'key=value\n');
      again.entry({ name: 'bin/tool', mode: 0o755 }, '#!/bin/sh\necho tool ran\n');
      again.finalize();
      await c.copyArchiveToContainer(again as unknown as Readable, '/opt');
      assert.equal((await c.exec(['cat', '/opt/etc/app.conf'])).stdout, 'key=value\n');
      assert.equal((await c.exec(['stat', '-c', '%a', '/opt/etc/app.conf'])).stdout, '640\n');
      assert.equal((await c.exec(['/opt/bin/tool'])).stdout, 'tool ran\n');
    } finally {
      await c.stop();
    }
  } finally {
    await network.stop();
  }
});

test('stop honours its timeout (SIGTERM first); exec returns large output intact', async () => {
  const c = await new tc.GenericContainer(IMAGE)
    .withCommand(['sh', '-c', 'trap "echo got TERM; exit 0" TERM; while true; do sleep 0.1; done'])
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  const big = await c.exec([
    'sh',
    '-c',
    'head -c 1048576 /dev/zero | tr "\\0" a; head -c 65536 /dev/zero | tr "\\0" b >&2',
  ]);
  assert.equal(big.exitCode, 0);
  assert.equal(big.stdout.length, 1_048_576);
  assert.match(big.stdout, /^a+$/);
  assert.equal(big.stderr.length, 65_536);
  await c.stop({ timeout: 10_000, remove: false });
  const state = ok(await daemon.d.docker(['inspect', '-f', '{{.State.ExitCode}}', c.getId()])).trim();
  assert.equal(state, '0');
  assert.match(ok(await daemon.d.docker(['logs', c.getId()])), /got TERM/);
  ok(await daemon.d.docker(['rm', '-v', c.getId()]));
});

test('containers and networks started in parallel each get their own ports and addresses', async () => {
  const networks = await Promise.all([new tc.Network().start(), new tc.Network().start()]);
  try {
    const started = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        new tc.GenericContainer(IMAGE)
          .withNetwork(networks[i % 2]!)
          .withNetworkAliases(`peer${i}`)
          .withCommand(['sh', '-c', `mkdir /www && echo ${i} > /www/i && exec httpd -f -p 8080 -h /www`])
          .withExposedPorts(8080)
          .withStartupTimeout(STARTUP_MS)
          .start(),
      ),
    );
    try {
      const ports = started.map((c) => c.getMappedPort(8080));
      assert.equal(new Set(ports).size, 4, ports.join(','));
      const ips = started.map((c, i) => c.getIpAddress(networks[i % 2]!.getName()));
      assert.equal(new Set(ips).size, 4, ips.join(','));
      for (const [i, c] of started.entries()) {
        const body = await new Promise<string>((resolve, reject) => {
          const s = net.connect(c.getMappedPort(8080), '127.0.0.1', () => s.write('GET /i HTTP/1.0\r\n\r\n'));
          let got = '';
          s.setTimeout(5_000, () => s.destroy(new Error('timeout')));
          s.on('data', (b) => (got += b.toString()));
          s.on('end', () => resolve(got));
          s.on('error', reject);
        });
        assert.match(body, new RegExp(`\r\n\r\n${i}\n$`));
      }
      // Peers on the same network reach each other by alias; the other network's are unknown.
      const r = await started[0]!.exec(['wget', '-qO-', 'http://peer2:8080/i']);
      assert.equal(r.stdout, '2\n', r.output);
      assert.notEqual((await started[0]!.exec(['nslookup', 'peer1'])).exitCode, 0);
    } finally {
      await Promise.all(started.map((c) => c.stop()));
    }
  } finally {
    await Promise.all(networks.map((n) => n.stop()));
  }
  // The same through the docker CLI: parallel creates get distinct subnets, and of two
  // creates of one name exactly one wins (Docker's 409 for the other).
  const names = [0, 1, 2].map((i) => `tc-par-${process.pid}-${i}`);
  try {
    await Promise.all(names.map(async (n) => ok(await daemon.d.docker(['network', 'create', n]))));
    const subnets = await Promise.all(
      names.map(async (n) =>
        ok(
          await daemon.d.docker(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', n]),
        ).trim(),
      ),
    );
    assert.equal(new Set(subnets).size, 3, subnets.join(' '));
    const dup = `tc-dup-${process.pid}`;
    names.push(dup);
    const twice = await Promise.all([0, 1].map(() => daemon.d.docker(['network', 'create', dup])));
    assert.deepEqual(twice.map((r) => r.code).sort(), [0, 1], twice.map((r) => r.stderr).join('|'));
    assert.match(
      twice.find((r) => r.code !== 0)!.stderr,
      new RegExp(`network with name ${dup} already exists`),
    );
  } finally {
    await Promise.all(names.map((n) => daemon.d.docker(['network', 'rm', n])));
  }
});

test('an image VOLUME: stop removes the anonymous volume; the events stream sees the die', async () => {
  const ctx = path.join(scratch, 'vol');
  await mkdir(ctx, { recursive: true });
  await writeFile(
    path.join(ctx, 'Dockerfile'),
    'FROM busybox:latest\nRUN mkdir /data && echo seeded > /data/seed\nVOLUME /data\n',
  );
  const image = await tc.GenericContainer.fromDockerfile(ctx).build('berth-tc/vol:1', {
    deleteOnExit: false,
  });
  const c = await image
    .withCommand(['sleep', '300'])
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  const vols = ok(await daemon.d.docker(['volume', 'ls', '-q']))
    .trim()
    .split('\n')
    .filter(Boolean);
  assert.equal(vols.length, 1, vols.join(','));
  assert.equal((await c.exec(['cat', '/data/seed'])).stdout, 'seeded\n');
  const client = await tc.getContainerRuntimeClient();
  const events = await client.container.events(client.container.getById(c.getId()), ['die']);
  const died = new Promise<{ Action: string; Actor: { Attributes: Record<string, string> } }>(
    (resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no die event within 15 s')), 15_000);
      events.on('data', (b: Buffer) => {
        clearTimeout(timer);
        resolve(JSON.parse(b.toString().split('\n')[0]!));
      });
    },
  );
  await c.stop();
  const ev = await died;
  (events as unknown as { destroy(): void }).destroy();
  assert.equal(ev.Action, 'die');
  assert.equal(ev.Actor.Attributes.exitCode, '137');
  assert.equal(
    ok(await daemon.d.docker(['volume', 'ls', '-q'])).trim(),
    '',
    'the anonymous volume went with its container',
  );
  ok(await daemon.d.docker(['rmi', 'berth-tc/vol:1']));
});

test('nothing is left behind', async () => {
  assert.equal(ok(await daemon.d.docker(['ps', '-aq'])).trim(), '', 'no container left');
  const nets = ok(await daemon.d.docker(['network', 'ls', '--format', '{{.Name}}']))
    .trim()
    .split('\n')
    .sort();
  assert.deepEqual(nets, ['bridge', 'host', 'none']);
  assert.equal(ok(await daemon.d.docker(['volume', 'ls', '-q'])).trim(), '', 'no volume left');
});
