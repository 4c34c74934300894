// testcontainers for Node (11.x, the npm package people use in their own test suites) against a
// real berthd: GenericContainer with exposed ports and each wait strategy, env/command/labels,
// bind mounts and tmpfs, exec, the copy helpers both ways, the logs stream, a Network with
// aliases, restart, stop and removal leaving nothing behind (checked with the real docker CLI).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
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

// testcontainers is loaded only once this file's berthd is up: it resolves its container runtime
// (the ConfigurationStrategy reads DOCKER_HOST) on first use and caches that client for the
// life of the process, so the environment must point at our socket before anything touches it.
let tc: typeof import('testcontainers');
let scratch = '';
// One before/after pair (not useBusyboxDaemon's plus ours): node 20 does not order two
// root-level hooks, and testcontainers must only be loaded once the daemon answers.
const daemon = {} as { d: TestDaemon };

before(async () => {
  daemon.d = await startTestDaemon();
  ok(await daemon.d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']));
  process.env.DOCKER_HOST = daemon.d.host;
  // Ryuk (testcontainers' reaper) is disabled: it needs the testcontainers/ryuk image from
  // Docker Hub, which this network cannot reach. The tests stop and remove what they started
  // themselves, and the last test checks that no container, network or volume is left.
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  // /.dockerenv exists on the CI machines, so testcontainers would believe it runs inside a
  // container and use the bridge network's gateway as the host of mapped ports; the tests talk
  // to published ports over loopback only.
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

/** GET over loopback; resolves with status and body. */
function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${urlPath}`)));
    req.on('error', reject);
  });
}

/** Reads a tar stream into a map of entry name → { type, body }. */
async function readTar(stream: NodeJS.ReadableStream): Promise<Map<string, { type: string; body: string }>> {
  const entries = new Map<string, { type: string; body: string }>();
  const extract = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (c: unknown) => chunks.push(c as Buffer));
      body.on('end', () => {
        entries.set(header.name, {
          type: header.type ?? 'file',
          body: Buffer.concat(chunks).toString('utf8'),
        });
        next();
      });
      body.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract);
  await done;
  return entries;
}

/**
 * Runs `fn`, then stops (and removes) `c`. When `fn` failed, its error is the one reported: a
 * failed wait strategy has already removed the container, so the stop's 404 would hide it.
 */
async function stopAfter(c: { stop(): Promise<unknown> }, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    await c.stop().catch(() => {});
    throw err;
  }
  await c.stop();
}

/** Collects the log stream until `want` appears (bounded by `ms`). */
function waitInStream(stream: Readable, want: string, ms = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`"${want}" not in the log stream after ${ms} ms; saw: ${JSON.stringify(seen)}`));
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

test('exposed port with Wait.forHttp and Wait.forListeningPorts; env, command, labels', async () => {
  const web = await new tc.GenericContainer(IMAGE)
    .withCommand([
      'sh',
      '-c',
      'mkdir -p /www && echo "hello $GREETING" > /www/index.html && exec httpd -f -p 8080 -h /www',
    ])
    .withEnvironment({ GREETING: 'from berth', EMPTY: '' })
    .withLabels({ 'com.example.suite': 'testcontainers', 'com.example.empty': '' })
    .withExposedPorts(8080)
    .withWaitStrategy(
      tc.Wait.forAll([tc.Wait.forListeningPorts(), tc.Wait.forHttp('/index.html', 8080).forStatusCode(200)]),
    )
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    assert.equal(web.getHost(), '127.0.0.1');
    const port = web.getMappedPort(8080);
    assert.ok(port > 0 && port !== 8080, `mapped port ${port}`);
    const res = await get(port, '/index.html');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'hello from berth\n');
    assert.equal((await get(port, '/missing')).status, 404);
    // The labels testcontainers sets itself, and ours, as the real docker CLI sees them.
    const labels = JSON.parse(
      ok(await daemon.d.docker(['inspect', '-f', '{{json .Config.Labels}}', web.getId()])),
    );
    assert.equal(labels['com.example.suite'], 'testcontainers');
    assert.equal(labels['com.example.empty'], '');
    assert.equal(labels['org.testcontainers'], 'true');
    assert.deepEqual(web.getLabels()['com.example.suite'], 'testcontainers');
    const env = await web.exec(['env']);
    assert.equal(env.exitCode, 0);
    assert.match(env.stdout, /^GREETING=from berth$/m);
    assert.match(env.stdout, /^EMPTY=$/m);
    // docker ps reports the published port the way testcontainers read it from inspect.
    const ps = ok(await daemon.d.docker(['ps', '--filter', `id=${web.getId()}`, '--format', '{{.Ports}}']));
    assert.match(ps, new RegExp(`:${port}->8080/tcp`));
  } finally {
    await web.stop();
  }
});

test('Wait.forLogMessage and the logs() stream', async () => {
  const c = await new tc.GenericContainer(IMAGE)
    .withCommand(['sh', '-c', 'echo booting; sleep 0.5; echo "server ready" >&2; exec sleep 300'])
    .withWaitStrategy(tc.Wait.forLogMessage(/server ready/))
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    const stream = await c.logs();
    // A line written by the main process after start arrives on the followed stream.
    const pending = waitInStream(stream, 'written later');
    const r = await c.exec(['sh', '-c', 'echo "written later" > /proc/1/fd/1']);
    assert.equal(r.exitCode, 0, r.output);
    const seen = await pending;
    assert.match(seen, /booting\n/);
    assert.match(seen, /server ready\n/);
    // tail
    const tail = await waitInStream(await c.logs({ tail: 1 }), 'written later');
    assert.doesNotMatch(tail, /booting/);
  } finally {
    await c.stop();
  }
});

test('Wait.forHealthCheck waits for healthy; an unhealthy container fails start and is removed', async () => {
  const c = await new tc.GenericContainer(IMAGE)
    .withCommand(['sh', '-c', 'sleep 1; touch /tmp/ready; exec sleep 300'])
    .withHealthCheck({
      test: ['CMD-SHELL', 'test -f /tmp/ready'],
      interval: 200,
      timeout: 2_000,
      retries: 50,
    })
    .withWaitStrategy(tc.Wait.forHealthCheck())
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    const health = ok(await daemon.d.docker(['inspect', '-f', '{{.State.Health.Status}}', c.getId()])).trim();
    assert.equal(health, 'healthy');
    assert.equal((await c.exec(['test', '-f', '/tmp/ready'])).exitCode, 0);
  } finally {
    await c.stop();
  }

  const name = `tc-unhealthy-${process.pid}`;
  await assert.rejects(
    new tc.GenericContainer(IMAGE)
      .withName(name)
      .withCommand(['sleep', '300'])
      .withHealthCheck({ test: ['CMD', 'false'], interval: 200, timeout: 2_000, retries: 2 })
      .withWaitStrategy(tc.Wait.forHealthCheck())
      .withStartupTimeout(STARTUP_MS)
      .start(),
    /Health check failed: unhealthy/,
  );
  // testcontainers stops and removes a container whose wait strategy failed.
  assert.equal(ok(await daemon.d.docker(['ps', '-aq', '--filter', `name=${name}`])).trim(), '');
});

test('exec: exit code, stdout and stderr apart, working dir, env and user', async () => {
  const c = await new tc.GenericContainer(IMAGE)
    .withCommand(['sleep', '300'])
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    const r = await c.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.match(r.output, /out\n/);
    assert.match(r.output, /err\n/);
    const w = await c.exec(['sh', '-c', 'pwd; echo $WHO; id -u'], {
      workingDir: '/tmp',
      env: { WHO: 'tc' },
      user: '1000',
    });
    assert.equal(w.exitCode, 0, w.output);
    assert.equal(w.stdout, '/tmp\ntc\n1000\n');
    // Docker's exec answers every failure to start with 126, a missing command too.
    const missing = await c.exec(['/no/such/binary']);
    assert.equal(missing.exitCode, 126, missing.output);
    // A string command is split on spaces by testcontainers.
    const s = await c.exec('echo a b');
    assert.equal(s.stdout, 'a b\n');
  } finally {
    await c.stop();
  }
});

test('copy files, content and directories in (before and after start) and an archive out', async () => {
  const dir = path.join(scratch, 'tree');
  await mkdir(path.join(dir, 'sub'), { recursive: true });
  await writeFile(path.join(dir, 'a.txt'), 'file a\n');
  await writeFile(path.join(dir, 'sub', 'b.txt'), 'file b\n');
  const single = path.join(scratch, 'single.txt');
  await writeFile(single, 'single file\n');

  const c = await new tc.GenericContainer(IMAGE)
    .withCommand(['sleep', '300'])
    .withCopyFilesToContainer([{ source: single, target: '/before/single.txt' }])
    .withCopyContentToContainer([{ content: 'script body\n', target: '/before/run.sh', mode: 0o755 }])
    .withCopyDirectoriesToContainer([{ source: dir, target: '/before/tree' }])
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('test -f /before/single.txt'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    const cat = async (p: string) => {
      const r = await c.exec(['cat', p]);
      assert.equal(r.exitCode, 0, `${p}: ${r.output}`);
      return r.stdout;
    };
    assert.equal(await cat('/before/single.txt'), 'single file\n');
    assert.equal(await cat('/before/run.sh'), 'script body\n');
    assert.equal((await c.exec(['stat', '-c', '%a', '/before/run.sh'])).stdout.trim(), '755');
    assert.equal(await cat('/before/tree/a.txt'), 'file a\n');
    assert.equal(await cat('/before/tree/sub/b.txt'), 'file b\n');

    await c.copyFilesToContainer([{ source: single, target: '/after/one.txt', mode: 0o600 }]);
    await c.copyContentToContainer([
      { content: 'from a string\n', target: '/after/s.txt' },
      { content: Buffer.from('from a buffer\n'), target: '/after/b.txt' },
    ]);
    await c.copyDirectoriesToContainer([{ source: dir, target: '/after/tree' }]);
    assert.equal(await cat('/after/one.txt'), 'single file\n');
    assert.equal((await c.exec(['stat', '-c', '%a', '/after/one.txt'])).stdout.trim(), '600');
    assert.equal(await cat('/after/s.txt'), 'from a string\n');
    assert.equal(await cat('/after/b.txt'), 'from a buffer\n');
    assert.equal(await cat('/after/tree/sub/b.txt'), 'file b\n');

    // Out: a directory comes back as a tar rooted at its base name.
    const tar = await readTar(await c.copyArchiveFromContainer('/after/tree'));
    assert.equal(tar.get('tree/')?.type, 'directory');
    assert.equal(tar.get('tree/a.txt')?.body, 'file a\n');
    assert.equal(tar.get('tree/sub/b.txt')?.body, 'file b\n');
    const one = await readTar(await c.copyArchiveFromContainer('/after/s.txt'));
    assert.deepEqual([...one.keys()], ['s.txt']);
    assert.equal(one.get('s.txt')?.body, 'from a string\n');
    await assert.rejects(c.copyArchiveFromContainer('/no/such/path'), /404|no such file|not found/i);
  } finally {
    await c.stop();
  }
});

test('bind mounts and tmpfs', async () => {
  const host = path.join(scratch, 'bind');
  await mkdir(host, { recursive: true });
  await writeFile(path.join(host, 'in.txt'), 'from the host\n');
  const ro = path.join(scratch, 'bind-ro');
  await mkdir(ro, { recursive: true });
  const c = await new tc.GenericContainer(IMAGE)
    .withCommand(['sleep', '300'])
    .withBindMounts([
      { source: host, target: '/data' },
      { source: ro, target: '/ro', mode: 'ro' },
    ])
    .withTmpFs({ '/scratch': 'rw,size=1m' })
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    assert.equal((await c.exec(['cat', '/data/in.txt'])).stdout, 'from the host\n');
    assert.equal((await c.exec(['sh', '-c', 'echo back > /data/out.txt'])).exitCode, 0);
    assert.equal(await readFile(path.join(host, 'out.txt'), 'utf8'), 'back\n');
    const w = await c.exec(['touch', '/ro/x']);
    assert.notEqual(w.exitCode, 0);
    assert.match(w.stderr, /Read-only file system/);
    const m = await c.exec(['sh', '-c', 'grep " /scratch " /proc/mounts']);
    assert.match(m.stdout, /^tmpfs \/scratch tmpfs rw/m);
    assert.match(m.stdout, /size=1024k/);
    assert.equal((await c.exec(['sh', '-c', 'echo t > /scratch/t && cat /scratch/t'])).stdout, 't\n');
  } finally {
    await c.stop();
  }
});

test('a Network with aliases: one container reaches the other by alias', async () => {
  const network = await new tc.Network().start();
  const server = await new tc.GenericContainer(IMAGE)
    .withNetwork(network)
    .withNetworkAliases('web', 'www.internal')
    .withCommand([
      'sh',
      '-c',
      'mkdir -p /www && echo "served by alias" > /www/index.html && exec httpd -f -p 8080 -h /www',
    ])
    .withExposedPorts(8080)
    .withStartupTimeout(STARTUP_MS)
    .start();
  try {
    assert.ok(server.getNetworkNames().includes(network.getName()), server.getNetworkNames().join(','));
    assert.match(server.getIpAddress(network.getName()), /^\d+\.\d+\.\d+\.\d+$/);
    const client = await new tc.GenericContainer(IMAGE)
      .withNetwork(network)
      .withCommand(['sleep', '300'])
      .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
      .withStartupTimeout(STARTUP_MS)
      .start();
    try {
      for (const alias of ['web', 'www.internal']) {
        const ns = await client.exec(['nslookup', alias]);
        assert.equal(ns.exitCode, 0, ns.output);
        assert.ok(ns.stdout.includes(server.getIpAddress(network.getName())), ns.stdout);
        const page = await client.exec(['wget', '-qO-', `http://${alias}:8080/`]);
        assert.equal(page.exitCode, 0, page.output);
        assert.equal(page.stdout, 'served by alias\n');
      }
    } finally {
      await client.stop();
    }
  } finally {
    await server.stop();
    await network.stop();
  }
  const nets = ok(await daemon.d.docker(['network', 'ls', '--format', '{{.Name}}']));
  assert.ok(!nets.split('\n').includes(network.getName()), nets);
});

test('restart: the wait strategy runs again on the new logs, the port is published again', async () => {
  const c = await new tc.GenericContainer(IMAGE)
    .withCommand([
      'sh',
      '-c',
      'if [ -f /started ]; then echo "second run"; else touch /started; echo "first run"; fi; echo ready; exec httpd -f -p 8080 -h /',
    ])
    .withExposedPorts(8080)
    .withWaitStrategy(tc.Wait.forAll([tc.Wait.forLogMessage('ready'), tc.Wait.forListeningPorts()]))
    .withStartupTimeout(STARTUP_MS)
    .start();
  await stopAfter(c, async () => {
    const started = async () =>
      ok(await daemon.d.docker(['inspect', '-f', '{{.State.StartedAt}}', c.getId()])).trim();
    const first = await started();
    await c.restart();
    const second = await started();
    assert.ok(Date.parse(second) > Date.parse(first), `${first} → ${second}`);
    // The writable layer survives a restart; the port answers at its (possibly new) mapping.
    assert.equal((await c.exec(['test', '-f', '/started'])).exitCode, 0);
    const res = await get(c.getMappedPort(8080), '/started');
    assert.equal(res.status, 200);
    // testcontainers waits on the logs since the new StartedAt (fractional seconds): only the
    // second run's lines are in them.
    const since = await waitInStream(await c.logs({ since: Date.parse(second) / 1000 }), 'ready');
    assert.match(since, /second run/);
    assert.doesNotMatch(since, /first run/);
    const all = await waitInStream(await c.logs(), 'second run');
    assert.match(all, /first run\nready\n/);
    assert.match(ok(await daemon.d.docker(['inspect', '-f', '{{.State.Running}}', c.getId()])), /^true/);
  });
});

test('lines printed at once after each (re)start are in the logs since StartedAt', async () => {
  // testcontainers waits for a log line after a restart with `logs?since=<StartedAt>`: a line
  // the process prints the moment it runs must not be stamped before StartedAt. One start alone
  // rarely shows the race, so the check repeats.
  const c = await new tc.GenericContainer(IMAGE)
    .withCommand(['sh', '-c', 'echo run; exec sleep 300'])
    .withWaitStrategy(tc.Wait.forLogMessage(/^run$/))
    // Short: a missed line fails in seconds (and testcontainers then removes the container).
    .withStartupTimeout(8_000)
    .start();
  await stopAfter(c, async () => {
    for (let i = 0; i < 4; i++) await c.restart();
  });
  // The same contract through the docker CLI: `docker logs --since <StartedAt>`.
  for (let i = 0; i < 6; i++) {
    const id = ok(
      await daemon.d.docker(['run', '-d', IMAGE, 'sh', '-c', 'echo first line; exec sleep 300']),
    ).trim();
    try {
      const started = ok(await daemon.d.docker(['inspect', '-f', '{{.State.StartedAt}}', id])).trim();
      let out = '';
      for (let n = 0; n < 50 && !out; n++) {
        out = ok(await daemon.d.docker(['logs', '--since', started, id]));
        if (!out) {
          // Either not written yet, or stamped before StartedAt: tell the two apart.
          const all = ok(await daemon.d.docker(['logs', '-t', id]));
          assert.ok(!all, `a line before StartedAt ${started}: ${all}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal(out, 'first line\n');
    } finally {
      ok(await daemon.d.docker(['rm', '-f', id]));
    }
  }
});

test('stop and removal leave no container, network or volume behind', async () => {
  const network = await new tc.Network().start();
  const a = await new tc.GenericContainer(IMAGE)
    .withNetwork(network)
    .withCommand(['sleep', '300'])
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  const kept = await new tc.GenericContainer(IMAGE)
    .withCommand(['sleep', '300'])
    .withWaitStrategy(tc.Wait.forSuccessfulCommand('true'))
    .withStartupTimeout(STARTUP_MS)
    .start();
  const id = a.getId();
  await a.stop();
  // stop({ remove: false }) keeps the container, exited, until we remove it.
  const stopped = await kept.stop({ remove: false });
  assert.ok(stopped);
  const state = ok(
    await daemon.d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', kept.getId()]),
  );
  assert.match(state, /^exited 137/);
  ok(await daemon.d.docker(['rm', kept.getId()]));
  await network.stop();
  await assert.rejects(
    (await tc.getContainerRuntimeClient()).container.inspect(
      (await tc.getContainerRuntimeClient()).container.getById(id),
    ),
    /no such container/i,
  );
  assert.equal(ok(await daemon.d.docker(['ps', '-aq'])).trim(), '', 'no container left');
  const nets = ok(await daemon.d.docker(['network', 'ls', '--format', '{{.Name}}']))
    .trim()
    .split('\n')
    .sort();
  assert.deepEqual(nets, ['bridge', 'host', 'none']);
  assert.equal(ok(await daemon.d.docker(['volume', 'ls', '-q'])).trim(), '', 'no volume left');
});
