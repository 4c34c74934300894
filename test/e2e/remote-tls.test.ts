// The Engine API over TCP with mutual TLS (issue 21), driven by the real docker CLI 28 and
// docker-py against berthd's own TLS listener on a free loopback port: the flags and the
// DOCKER_TLS_VERIFY/DOCKER_CERT_PATH environment, attached run, exec -i, logs -f, build
// progress, events with --since/--until; and the refusals (another CA, an expired certificate,
// no certificate, plain HTTP), after each of which the daemon still serves a good client.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  certPathDir,
  daemonTlsArgs,
  type KeyPair,
  makePki,
  tlsHostOf,
  tlsVerifyFlags,
} from '../helpers/certs.ts';
import { type RunResult, run } from '../helpers/daemon.ts';
import { makeContext, ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const pki = makePki();
const daemon = useBusyboxDaemon({ extraArgs: daemonTlsArgs(pki) });
let host = '';
let certPath = '';

// Nothing from the test runner's environment says where the daemon is: each call does.
const baseEnv = () => ({
  DOCKER_HOST: '',
  DOCKER_TLS_VERIFY: '',
  DOCKER_CERT_PATH: '',
  DOCKER_CONFIG: path.join(daemon.d.dir, 'docker-config'),
  DOCKER_BUILDKIT: '0',
});
/** The docker CLI with --tlsverify flags (the good client pair unless told otherwise). */
const docker = (args: string[], opts: { input?: string; pair?: KeyPair } = {}) =>
  run('docker', [...tlsVerifyFlags(pki, host, opts.pair), ...args], {
    env: baseEnv(),
    timeoutMs: 60_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
/** The TLS settings from the environment only, as DOCKER_TLS_VERIFY users have them. */
const tlsEnv = () => ({
  ...baseEnv(),
  DOCKER_HOST: host,
  DOCKER_TLS_VERIFY: '1',
  DOCKER_CERT_PATH: certPath,
});
const dockerEnv = (args: string[], input?: string) =>
  run('docker', args, { env: tlsEnv(), timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });

describe('the Engine API over mutual TLS', () => {
  before(async () => {
    host = await tlsHostOf(daemon.d.logs);
    certPath = certPathDir(pki);
  });
  after(() => {
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test('--tlsverify flags: version and an attached run --rm', async () => {
    assert.match(ok(await docker(['version', '--format', '{{.Server.Version}}'])), /^\d+\.\d+/);
    assert.equal(ok(await docker(['run', '--rm', 'busybox', 'echo', 'over-tls'])), 'over-tls\n');
  });

  test('DOCKER_TLS_VERIFY/DOCKER_CERT_PATH: run --rm attached and exec -i with stdin', async () => {
    assert.equal(ok(await dockerEnv(['run', '--rm', 'busybox', 'echo', 'env-tls'])), 'env-tls\n');
    // Input both ways through one attached run: stdin in, stdout back, EOF ends the container.
    assert.equal(
      ok(await dockerEnv(['run', '--rm', '-i', 'busybox', 'tr', 'a-z', 'A-Z'], 'shout\n')),
      'SHOUT\n',
    );
    const id = ok(await dockerEnv(['run', '-d', 'busybox', 'sleep', '300'])).trim();
    try {
      // Stdin reaches the exec, its EOF (a TLS half-close) ends `wc`, and the output still comes back.
      const e = ok(await dockerEnv(['exec', '-i', id, 'wc', '-l'], 'one\ntwo\nthree\n'));
      assert.equal(e.trim(), '3');
    } finally {
      await dockerEnv(['rm', '-f', id]);
    }
  });

  test('logs -f streams over TLS while the container runs, and ends when it exits', async () => {
    // The container waits (bounded) for a file the test makes once `logs -f` has shown the first
    // line, so the second line can only have come through the open stream.
    const script =
      'echo first; i=0; while [ ! -f /tmp/go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; echo last';
    const id = ok(await docker(['run', '-d', 'busybox', 'sh', '-c', script])).trim();
    const child = spawn('docker', [...tlsVerifyFlags(pki, host), 'logs', '-f', id], {
      env: { ...process.env, ...baseEnv() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('first\n')) resolve();
        });
        void exited.then(() => reject(new Error(`logs -f ended before the first line: ${out} ${err}`)));
      });
      const state = JSON.parse(ok(await docker(['inspect', '--format', '{{json .State}}', id])));
      assert.equal(state.Running, true, 'the container still runs while logs -f has shown its first line');
      ok(await docker(['exec', id, 'touch', '/tmp/go']));
      assert.equal(await exited, 0, err);
      assert.equal(out, 'first\nlast\n');
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
      await docker(['rm', '-f', id]);
    }
  });

  test('docker build over TLS streams its progress and makes the image', async () => {
    const ctx = await makeContext({ Dockerfile: 'FROM busybox\nRUN echo built-over-tls > /made\n' });
    try {
      const r = ok(await docker(['build', '--no-cache', '-t', 'tls-built', ctx]));
      assert.match(r, /Step 1\/2 : FROM busybox/);
      assert.match(r, /Step 2\/2 : RUN echo built-over-tls > \/made/);
      assert.match(r, /Successfully tagged tls-built:latest/);
      assert.equal(ok(await docker(['run', '--rm', 'tls-built', 'cat', '/made'])), 'built-over-tls\n');
    } finally {
      await docker(['rmi', '-f', 'tls-built']);
      rmSync(ctx, { recursive: true, force: true });
    }
  });

  test('events --since/--until over TLS replay a past window and end', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    ok(await docker(['create', '--name', 'tls-ev', 'busybox', 'true']));
    ok(await docker(['rm', 'tls-ev']));
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await docker([
      'events',
      '--since',
      String(since),
      '--until',
      String(until),
      '--filter',
      'container=tls-ev',
      '--format',
      '{{.Action}}',
    ]);
    assert.equal(ok(r), 'create\ndestroy\n');
  });

  test('docker-py: docker.from_env() with DOCKER_TLS_VERIFY runs a container and reads its logs', async () => {
    const py = [
      'import docker, json',
      'c = docker.from_env()',
      'k = c.containers.run("busybox", ["sh", "-c", "echo py-out; echo py-err >&2"], detach=True)',
      'code = k.wait(timeout=60)["StatusCode"]',
      'logs = k.logs(stdout=True, stderr=True).decode()',
      'k.remove()',
      'attached = c.containers.run("busybox", ["echo", "py-attached"], remove=True).decode()',
      'print(json.dumps({"code": code, "logs": logs, "attached": attached, "tls": c.api.base_url}))',
    ].join('\n');
    // The machine's REQUESTS_CA_BUNDLE would override docker-py's CA (requests lets the variable
    // win over a session's `verify`), so it is cleared: docker-py must use DOCKER_CERT_PATH's.
    const env = { ...tlsEnv(), REQUESTS_CA_BUNDLE: '', CURL_CA_BUNDLE: '' };
    const r = await run('python3', ['-c', py], { env, timeoutMs: 90_000 });
    const got = JSON.parse(ok(r));
    assert.equal(got.code, 0);
    // stdout and stderr are separate pipes, so only the set of lines is certain, not their order.
    assert.deepEqual(got.logs.split('\n').filter(Boolean).sort(), ['py-err', 'py-out']);
    assert.equal(got.attached, 'py-attached\n');
    // from_env turned tcp:// into https:// because DOCKER_TLS_VERIFY was set.
    assert.equal(got.tls, host.replace('tcp://', 'https://'));
  });

  /** A good request after a refusal: the daemon kept serving. */
  async function stillServes(): Promise<void> {
    assert.equal(ok(await docker(['run', '--rm', 'busybox', 'echo', 'still-here'])), 'still-here\n');
  }

  /** berthd's "TLS handshake refused" log lines so far. */
  const refusals = () =>
    daemon.d
      .logs()
      .split('\n')
      .filter((l) => l.includes('"TLS handshake refused"'));

  /**
   * Waits (bounded) for a refusal logged after the first `since` lines whose reason matches `re`,
   * so it is the daemon that refused, for that reason.
   */
  async function refusedFor(since: number, re: RegExp): Promise<void> {
    const end = Date.now() + 5_000;
    for (;;) {
      const fresh = refusals().slice(since);
      if (fresh.some((l) => re.test(l))) return;
      if (Date.now() > end) assert.fail(`berthd logged no refusal matching ${re}:\n${fresh.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  function refused(r: RunResult): void {
    assert.notEqual(r.code, 0, `expected a refusal, got: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /\d+\.\d+/);
  }

  const httpsUrl = (p: string) => `${host.replace('tcp:', 'https:')}${p}`;

  test('a client certificate from another CA is refused; the daemon keeps serving', async () => {
    let n = refusals().length;
    // Go's TLS client offers a certificate only if the server's list of acceptable CAs names its
    // issuer, so the docker CLI sends none and is refused for that.
    refused(await docker(['version', '--format', '{{.Server.Version}}'], { pair: pki.otherClient }));
    await refusedFor(n, /PEER_DID_NOT_RETURN_A_CERTIFICATE/);
    // curl (OpenSSL) sends it anyway: now the daemon's own verification refuses it.
    n = refusals().length;
    const c = await run('curl', [
      '-s',
      '--max-time',
      '10',
      '--cacert',
      pki.ca,
      '--cert',
      pki.otherClient.cert,
      '--key',
      pki.otherClient.key,
      httpsUrl('/_ping'),
    ]);
    assert.notEqual(c.stdout, 'OK');
    await refusedFor(n, /UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    await stillServes();
  });

  test('an expired client certificate (from the right CA) is refused; the daemon keeps serving', async () => {
    const n = refusals().length;
    refused(await docker(['version', '--format', '{{.Server.Version}}'], { pair: pki.expiredClient }));
    await refusedFor(n, /CERT_HAS_EXPIRED/);
    await stillServes();
  });

  test('a client without a certificate is refused; the daemon keeps serving', async () => {
    const n = refusals().length;
    // docker with only the CA: it trusts the server but has nothing to show.
    const r = await run(
      'docker',
      ['--tlsverify', '--tlscacert', pki.ca, '-H', host, 'version', '--format', '{{.Server.Version}}'],
      { env: { ...baseEnv(), DOCKER_CERT_PATH: path.join(pki.dir, 'nowhere') }, timeoutMs: 30_000 },
    );
    refused(r);
    await refusedFor(n, /PEER_DID_NOT_RETURN_A_CERTIFICATE/);
    // curl the same way, straight at the API.
    const c = await run('curl', ['-s', '--max-time', '10', '--cacert', pki.ca, httpsUrl('/_ping')]);
    assert.notEqual(c.code, 0);
    assert.notEqual(c.stdout, 'OK');
    await stillServes();
  });

  test('plain HTTP to the TLS port is refused; the daemon keeps serving', async () => {
    const n = refusals().length;
    const plain = await run('curl', ['-s', '--max-time', '10', `${host.replace('tcp:', 'http:')}/_ping`]);
    assert.notEqual(plain.stdout, 'OK');
    await refusedFor(n, /ERR_SSL_HTTP_REQUEST/);
    // The docker CLI without any TLS setting speaks plain HTTP to it, and fails.
    refused(
      await run('docker', ['-H', host, 'version', '--format', '{{.Server.Version}}'], { env: baseEnv() }),
    );
    await stillServes();
  });
});
