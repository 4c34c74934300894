// ssh:// remote access (issue 21): a private Debian sshd on a loopback port with its own host key
// and one authorized client key, then the real docker CLI and berth through `-H ssh://`,
// DOCKER_HOST and contexts, and `berth system dial-stdio` on its own. Nothing of the machine's ssh
// set-up is used or changed (test/helpers/sshd.ts: its own config, and an `ssh` wrapper first on
// the clients' PATH that runs /usr/bin/ssh -F with its client config).
// On the far side (root on this machine) sshd's SetEnv gives a PATH whose `berth` and `docker`
// are wrappers that log their arguments, and DOCKER_HOST = the test berthd's socket.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { berthCli, ROOT, run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';
import { freePort } from '../helpers/ports.ts';
import { type PrivateSshd, startSshd, writeScript } from '../helpers/sshd.ts';

const DOCKER = '/usr/local/bin/docker';

const daemon = useBusyboxDaemon();
let dir = '';
let sshd: PrivateSshd | undefined;
let url = '';

const calls = () =>
  existsSync(path.join(dir, 'remote-calls.log'))
    ? readFileSync(path.join(dir, 'remote-calls.log'), 'utf8')
    : '';
const clearCalls = () => rmSync(path.join(dir, 'remote-calls.log'), { force: true });

// The clients' environment: no daemon address, a private docker config, the ssh wrapper first.
const env = (extra: Record<string, string> = {}) => ({
  DOCKER_HOST: '',
  BERTH_HOST: '',
  DOCKER_CONTEXT: '',
  DOCKER_CONFIG: path.join(dir, 'client-config'),
  BERTH_SSH_REMOTE_CMD: '',
  BERTH_TEST_SSH_CONFIG: sshd!.clientConfig(),
  PATH: `${sshd!.clientBin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  ...extra,
});
const berth = (args: string[], extra: Record<string, string> = {}, input?: string) =>
  berthCli(args, { env: env(extra), timeoutMs: 90_000, ...(input !== undefined ? { input } : {}) });
const docker = (args: string[], extra: Record<string, string> = {}) =>
  run(DOCKER, args, { env: env(extra), timeoutMs: 90_000 });

describe('ssh:// remote access', () => {
  before(async () => {
    sshd = await startSshd({
      remoteEnv: { DOCKER_HOST: `unix://${daemon.d.socket}` },
      otherKeys: ['wrong_key'],
    });
    dir = sshd.dir;
    url = sshd.url;
    mkdirSync(path.join(dir, 'client-config'));
    // The far side: berth and docker that log how they were called. With docker-is-berth present,
    // the far side's `docker` is berth (a host with Berth only, reached by the docker CLI).
    const log = path.join(dir, 'remote-calls.log');
    writeScript(
      path.join(sshd.remoteBin, 'berth'),
      `echo "berth $*" >> ${log}\nexec ${path.join(ROOT, 'bin/berth')} "$@"`,
    );
    writeScript(
      path.join(sshd.remoteBin, 'docker'),
      [
        `echo "docker $*" >> ${log}`,
        `if [ -e ${path.join(dir, 'docker-is-berth')} ]; then exec ${path.join(ROOT, 'bin/berth')} "$@"; fi`,
        `exec ${DOCKER} "$@"`,
      ].join('\n'),
    );
  });

  after(async () => {
    await sshd?.stop();
  });

  test('the docker CLI over ssh:// with the real docker dial-stdio on the far side', async () => {
    clearCalls();
    const v = ok(await docker(['-H', url, 'version', '--format', '{{.Server.Version}}']));
    assert.match(v.trim(), /^\d+\.\d+/);
    assert.equal(
      ok(await docker(['-H', url, 'run', '--rm', 'busybox', 'echo', 'docker-over-ssh'])),
      'docker-over-ssh\n',
    );
    const id = ok(await docker(['-H', url, 'run', '-d', 'busybox', 'sleep', '300'])).trim();
    try {
      assert.match(ok(await docker(['-H', url, 'ps', '--no-trunc', '-q'])), new RegExp(id));
    } finally {
      ok(await docker(['-H', url, 'rm', '-f', id]));
    }
    assert.match(calls(), /^docker system dial-stdio$/m, sshd!.log());
  });

  test('the docker CLI over ssh:// with berth system dial-stdio as the far side', async () => {
    clearCalls();
    writeFileSync(path.join(dir, 'docker-is-berth'), '');
    try {
      assert.equal(
        ok(await docker(['-H', url, 'run', '--rm', 'busybox', 'echo', 'via-berth-dial'])),
        'via-berth-dial\n',
      );
      // exec -i: stdin, its EOF and the output all cross ssh and berth's relay.
      const id = ok(await docker(['-H', url, 'run', '-d', 'busybox', 'sleep', '300'])).trim();
      try {
        const r = await run(DOCKER, ['-H', url, 'exec', '-i', id, 'cat'], {
          env: env(),
          input: 'through-berth-relay\n',
          timeoutMs: 60_000,
        });
        assert.equal(ok(r), 'through-berth-relay\n');
      } finally {
        ok(await docker(['-H', url, 'rm', '-f', id]));
      }
      assert.match(calls(), /^docker system dial-stdio$/m);
    } finally {
      rmSync(path.join(dir, 'docker-is-berth'), { force: true });
    }
  });

  test('berth -H ssh://: version, run --rm attached, exec -i, logs; berth dial-stdio on the far side', async () => {
    clearCalls();
    const v = ok(await berth(['-H', url, 'version', '--format', '{{.Server.Version}}']));
    assert.match(v.trim(), /^\d+\.\d+/);
    assert.equal(ok(await berth(['-H', url, 'run', '--rm', 'busybox', 'echo', 'hi'])), 'hi\n');
    const id = ok(
      await berth(['-H', url, 'run', '-d', 'busybox', 'sh', '-c', 'echo started; sleep 300']),
    ).trim();
    try {
      assert.equal(
        ok(await berth(['-H', url, 'exec', '-i', id, 'cat'], {}, 'piped-over-ssh\n')),
        'piped-over-ssh\n',
      );
      assert.match(ok(await berth(['-H', url, 'logs', id])), /started/);
    } finally {
      ok(await berth(['-H', url, 'rm', '-f', id]));
    }
    assert.match(calls(), /^berth system dial-stdio$/m);
    assert.doesNotMatch(calls(), /^docker /m);
  });

  test('berth over ssh:// keeps one connection for the sequential requests of a command', async () => {
    // Each ssh connection is one far-side `berth system dial-stdio` in the log.
    const dials = () => calls().match(/^berth system dial-stdio$/gm)?.length ?? 0;
    clearCalls();
    assert.match(ok(await berth(['-H', url, 'ps', '-a'])), /CONTAINER ID/);
    assert.equal(dials(), 1, calls());
    // `rm -f` of three names is three DELETEs one after the other (404s with a body, read to
    // their end): one connection for all three.
    clearCalls();
    const rm = await berth(['-H', url, 'rm', '-f', 'kept-none-1', 'kept-none-2', 'kept-none-3']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stderr.match(/No such container: kept-none-\d/g)?.length, 3, rm.stderr);
    assert.equal(dials(), 1, calls());
    // `run --rm` attached is create, attach (a hijack: its connection is its own from then on),
    // wait (held open until the removal) and start, concurrently: three connections at most.
    clearCalls();
    assert.equal(ok(await berth(['-H', url, 'run', '--rm', 'busybox', 'echo', 'kept'])), 'kept\n');
    assert.ok(dials() >= 1 && dials() <= 3, `run --rm used ${dials()} ssh connections:\n${calls()}`);
    // No ssh child outlives the command: the CLI ends its kept ssh as it exits (SIGTERM, so
    // allow it a moment to go; bounded).
    const pattern = `ssh -F ${sshd!.clientConfig()}`;
    let left = '';
    for (let i = 0; i < 20; i++) {
      left = (await run('pgrep', ['-a', '-f', '--', pattern], { timeoutMs: 10_000 })).stdout.trim();
      if (!left) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(left, '', `ssh processes left behind: ${left}`);
  });

  test('DOCKER_HOST=ssh:// and a socket path in the URL', async () => {
    assert.match(ok(await berth(['ps', '-a'], { DOCKER_HOST: url })), /CONTAINER ID/);
    clearCalls();
    // The path is the far side's socket: passed on as --host, so the remote DOCKER_HOST is not used.
    const withPath = `${url}${daemon.d.socket}`;
    assert.equal(ok(await berth(['-H', withPath, 'run', '--rm', 'busybox', 'echo', 'by-path'])), 'by-path\n');
    assert.match(calls(), new RegExp(`^berth --host=unix://${daemon.d.socket} system dial-stdio$`, 'm'));
    const missing = await berth(['-H', `${url}/nowhere/berth.sock`, 'version']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /error during connect: ssh:\/\/.*\/nowhere\/berth\.sock/);
    assert.match(missing.stderr, /Cannot connect to the Berth daemon at unix:\/\/\/nowhere\/berth\.sock/);
  });

  test('BERTH_SSH_REMOTE_CMD=docker: berth through the far side docker dial-stdio', async () => {
    clearCalls();
    const out = ok(
      await berth(['-H', url, 'run', '--rm', 'busybox', 'echo', 'far-docker'], {
        BERTH_SSH_REMOTE_CMD: 'docker',
      }),
    );
    assert.equal(out, 'far-docker\n');
    assert.match(calls(), /^docker system dial-stdio$/m);
    assert.doesNotMatch(calls(), /^berth /m);
  });

  test('refused: a wrong key, a closed port, a remote command that is missing', async () => {
    const wrong = await berth(['-H', url, 'version'], {
      BERTH_TEST_SSH_CONFIG: sshd!.clientConfig('wrong_key'),
    });
    assert.notEqual(wrong.code, 0);
    assert.match(
      wrong.stderr,
      /error during connect: ssh:\/\/root@127\.0\.0\.1:\d+: ssh exited with status 255: .*Permission denied \(publickey\)/,
    );
    assert.match(wrong.stderr, /check the host, port, user and key/);
    const closed = await berth(['-H', `ssh://root@127.0.0.1:${await freePort()}`, 'ps']);
    assert.notEqual(closed.code, 0);
    assert.match(closed.stderr, /ssh exited with status 255: .*Connection refused/);
    const missing = await berth(['-H', url, 'ps'], { BERTH_SSH_REMOTE_CMD: '/nonexistent/berth' });
    assert.notEqual(missing.code, 0);
    assert.match(
      missing.stderr,
      /ssh exited with status 127: .*\/nonexistent\/berth.*(not found|No such file)/,
    );
    const bad = await berth(['-H', 'ssh://root:secret@127.0.0.1', 'ps']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /plain-text password is not supported/);
  });

  test('berth system dial-stdio on its own: HTTP through stdin/stdout, half-close, clear errors', async () => {
    const req = 'GET /_ping HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n';
    const r = await berth(['-H', daemon.d.host, 'system', 'dial-stdio'], {}, req);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 /);
    assert.match(r.stdout, /\r\n\r\nOK$/);
    // A request whose answer takes the daemon a while: the half-close must not cut it off.
    const info = await berth(
      ['-H', daemon.d.host, 'system', 'dial-stdio'],
      {},
      'GET /info HTTP/1.1\r\nHost: berth\r\n\r\n',
    );
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^HTTP\/1\.1 200 /);
    const body = info.stdout.slice(info.stdout.indexOf('\r\n\r\n') + 4);
    assert.equal((JSON.parse(body) as { Images: number }).Images, 1);
    // A stream the client left by half-closing (events) ends, and dial-stdio with it.
    const events = await berthCli(['-H', daemon.d.host, 'system', 'dial-stdio'], {
      env: env(),
      input: 'GET /events HTTP/1.1\r\nHost: berth\r\n\r\n',
      timeoutMs: 20_000,
    });
    assert.equal(events.code, 0, `dial-stdio did not end with the events stream: ${events.stderr}`);
    assert.match(events.stdout, /^HTTP\/1\.1 200 /);
    const gone = await berth(['-H', `unix://${path.join(dir, 'no.sock')}`, 'system', 'dial-stdio'], {}, req);
    assert.equal(gone.code, 1);
    assert.match(
      gone.stderr,
      /failed to open the raw stream connection: Cannot connect to the Berth daemon at unix:\/\/.*no\.sock/,
    );
  });

  test('a context with an ssh:// docker endpoint, for berth and the docker CLI', async () => {
    ok(await berth(['context', 'create', 'over-ssh', '--docker', `host=${url}`]));
    try {
      assert.equal(
        ok(await berth(['--context', 'over-ssh', 'run', '--rm', 'busybox', 'echo', 'ctx-ssh'])),
        'ctx-ssh\n',
      );
      assert.equal(
        ok(await docker(['--context', 'over-ssh', 'run', '--rm', 'busybox', 'echo', 'ctx-docker'])),
        'ctx-docker\n',
      );
      ok(await berth(['context', 'use', 'over-ssh']));
      assert.match(
        ok(await berth(['version', '--format', '{{.Client.Context}} {{.Server.Version}}'])),
        /^over-ssh \d+\./,
      );
    } finally {
      await berth(['context', 'use', 'default']);
      await berth(['context', 'rm', '-f', 'over-ssh']);
    }
  });
});
