// The run/create flags added for docker CLI parity, through bin/berth against a real berthd:
// --cidfile, --label-file, --pull, --platform, --use-api-socket, --sig-proxy, docker's
// `--flag=false` booleans, ps -s, and flags berthd cannot honour failing with their reason.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT } from '../helpers/daemon.ts';
import { ok, until, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-runflags-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('run/create flags of docker 28', () => {
  test('--cidfile writes the ID and refuses an existing file', async () => {
    const f = path.join(tmp, 'cid');
    const id = ok(await daemon.d.berth(['create', '--cidfile', f, 'busybox', 'true'])).trim();
    assert.equal(readFileSync(f, 'utf8'), id);
    const again = await daemon.d.berth(['run', '--cidfile', f, 'busybox', 'true']);
    assert.equal(again.code, 125);
    assert.match(
      again.stderr,
      /container ID file found, make sure the other container isn't running or delete/,
    );
  });

  test('--label-file labels (comments and blank lines skipped), -l wins', async () => {
    const f = path.join(tmp, 'labels');
    writeFileSync(f, '# team labels\ntier=web\n\nowner=ops\n');
    const id = ok(
      await daemon.d.berth(['create', '--label-file', f, '-l', 'owner=dev', 'busybox', 'true']),
    ).trim();
    const labels = JSON.parse(
      ok(await daemon.d.berth(['inspect', '--format', '{{json .Config.Labels}}', id])),
    ) as Record<string, string>;
    assert.equal(labels.tier, 'web');
    assert.equal(labels.owner, 'dev');
  });

  test('--pull: never with a local image runs, a bad value is exit 125, never with none is 125', async () => {
    assert.equal(
      ok(await daemon.d.berth(['run', '--rm', '--pull', 'never', '-q', 'busybox', 'echo', 'hi'])),
      'hi\n',
    );
    const bad = await daemon.d.berth(['run', '--pull', 'sometimes', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /invalid pull option: 'sometimes'/);
    const none = await daemon.d.berth(['create', '--pull=never', 'absent/image:1']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /No such image: absent\/image:1/);
    assert.doesNotMatch(none.stderr, /Unable to find image/);
  });

  test('--platform of the host is accepted; --use-api-socket mounts the daemon socket', async () => {
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    assert.equal(
      ok(await daemon.d.berth(['run', '--rm', '--platform', `linux/${arch}`, 'busybox', 'echo', 'p'])),
      'p\n',
    );
    const r = await daemon.d.berth([
      'run',
      '--rm',
      '--use-api-socket',
      'busybox',
      'sh',
      '-c',
      'test -S /var/run/docker.sock && echo sock',
    ]);
    assert.equal(ok(r), 'sock\n');
  });

  test("docker's --flag=false booleans: --rm=false keeps the container, -d=true detaches", async () => {
    ok(await daemon.d.berth(['run', '--rm=false', '--name', 'kept', 'busybox', 'true']));
    assert.equal(ok(await daemon.d.berth(['inspect', '--format', '{{.State.Status}}', 'kept'])), 'exited\n');
    const id = ok(await daemon.d.berth(['run', '-d=true', '--name', 'bg', 'busybox', 'sleep', '30'])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    ok(await daemon.d.berth(['rm', '-f', 'bg', 'kept']));
  });

  test('--sig-proxy: SIGTERM to berth run reaches the container', async () => {
    const child = spawn(
      path.join(ROOT, 'bin/berth'),
      [
        'run',
        '--rm',
        '--name',
        'proxied',
        'busybox',
        'sh',
        '-c',
        'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done',
      ],
      { env: { ...process.env, DOCKER_HOST: daemon.d.host }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      await until('container ready', async () => out.includes('ready'), 20_000);
      child.kill('SIGTERM');
      assert.equal(await exited, 7);
      assert.match(out, /got-term/);
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  });

  test('ps -s adds a SIZE column with the writable layer and the virtual size, as docker', async () => {
    ok(
      await daemon.d.berth([
        'run',
        '-d',
        '--name',
        'sized',
        'busybox',
        'sh',
        '-c',
        'head -c 3000 /dev/zero > /f; sleep 30',
      ]),
    );
    let r = await daemon.d.berth(['ps', '-s', '--filter', 'name=sized']);
    for (let i = 0; i < 50 && !/\d+(\.\d+)?kB \(virtual /.test(r.stdout); i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await daemon.d.berth(['ps', '-s', '--filter', 'name=sized']);
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0] ?? '', /\bSIZE$/);
    assert.match(r.stdout, /\d+(\.\d+)?kB \(virtual \d+(\.\d+)?MB\)/);
    ok(await daemon.d.berth(['rm', '-f', 'sized']));
  });

  test('flags berthd cannot honour fail with exit 125 and the reason; harmless values pass', async () => {
    for (const args of [
      ['--cpu-count', '2'],
      ['--isolation', 'hyperv'],
      ['--userns', 'remap'],
      ['--disable-content-trust=false'],
    ]) {
      const r = await daemon.d.berth(['run', '--rm', ...args, 'busybox', 'true']);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, new RegExp(`^berth: ${args[0]!.split('=')[0]} is not supported: \\S`), r.stderr);
    }
    ok(
      await daemon.d.berth([
        'run',
        '--rm',
        '--isolation',
        'default',
        '--userns',
        'host',
        '--disable-content-trust',
        'busybox',
        'true',
      ]),
    );
    const s = await daemon.d.berth(['start', '--checkpoint', 'c1', 'x']);
    assert.equal(s.code, 125);
    assert.match(s.stderr, /--checkpoint is not supported/);
  });

  test('--oom-score-adj reaches the container (/proc/1/oom_score_adj) and inspect, via docker and berth', async () => {
    for (const cli of ['docker', 'berth'] as const) {
      const out = ok(
        await daemon.d[cli]([
          'run',
          '--rm',
          '--oom-score-adj',
          '500',
          'busybox',
          'cat',
          '/proc/1/oom_score_adj',
        ]),
      );
      assert.equal(out, '500\n', cli);
      const id = ok(await daemon.d[cli](['create', '--oom-score-adj', '321', 'busybox', 'true'])).trim();
      const fmt = ['inspect', '--format', '{{.HostConfig.OomScoreAdj}}', id];
      assert.equal(ok(await daemon.d.docker(fmt)), '321\n', cli);
      assert.equal(ok(await daemon.d.berth(fmt)), '321\n', cli);
      ok(await daemon.d.docker(['rm', id]));
      // Not given: the container keeps berthd's own score (0 here).
      assert.equal(
        ok(await daemon.d[cli](['run', '--rm', 'busybox', 'cat', '/proc/1/oom_score_adj'])),
        '0\n',
      );
    }
    // Out of range: berthd's (dockerd's) text for both CLIs; not a number: berth's usage error.
    const viaDocker = await daemon.d.docker(['create', '--oom-score-adj', '1001', 'busybox']);
    const viaBerth = await daemon.d.berth(['create', '--oom-score-adj', '1001', 'busybox']);
    assert.notEqual(viaDocker.code, 0);
    assert.equal(viaBerth.code, viaDocker.code);
    for (const r of [viaDocker, viaBerth])
      assert.match(r.stderr, /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/);
    const nan = await daemon.d.berth(['create', '--oom-score-adj', 'high', 'busybox']);
    assert.equal(nan.code, 125);
    assert.match(nan.stderr, /invalid argument "high" for "--oom-score-adj" flag/);
  });

  test('--annotation reaches the OCI spec and inspect; --memory-swappiness sets the cgroup', async () => {
    const id = ok(
      await daemon.d.berth([
        'run',
        '-d',
        '--annotation',
        'org.example.tier=web',
        '--memory-swappiness',
        '17',
        'busybox',
        'sleep',
        '30',
      ]),
    ).trim();
    const ann = JSON.parse(
      ok(await daemon.d.berth(['inspect', '--format', '{{json .HostConfig.Annotations}}', id])),
    ) as Record<string, string>;
    assert.equal(ann['org.example.tier'], 'web');
    assert.equal(
      ok(await daemon.d.berth(['inspect', '--format', '{{.HostConfig.MemorySwappiness}}', id])),
      '17\n',
    );
    const spec = JSON.parse(
      readFileSync(path.join(daemon.d.dataRoot, 'containers', id, 'config.json'), 'utf8'),
    ) as { annotations?: Record<string, string>; linux: { resources: { memory?: { swappiness?: number } } } };
    assert.equal(spec.annotations?.['org.example.tier'], 'web');
    assert.equal(spec.linux.resources.memory?.swappiness, 17);
    ok(await daemon.d.berth(['rm', '-f', id]));
  });

  test('--memory-swappiness out of range, --storage-opt and --gpus are refused by berthd with the reason', async () => {
    const sw = await daemon.d.berth(['create', '--memory-swappiness', '101', 'busybox', 'true']);
    assert.equal(sw.code, 1, sw.stderr); // docker create: daemon errors exit 1
    assert.match(sw.stderr, /Invalid value: 101, valid memory swappiness range is 0-100/);
    const so = await daemon.d.berth(['create', '--storage-opt', 'size=1G', 'busybox', 'true']);
    assert.equal(so.code, 1, so.stderr); // docker create: daemon errors exit 1
    assert.match(so.stderr, /--storage-opt is not supported: "size": .*pquota/);
    const g = await daemon.d.berth(['create', '--gpus', 'all', 'busybox', 'true']);
    assert.equal(g.code, 1, g.stderr); // docker create: daemon errors exit 1
    assert.match(
      g.stderr,
      /could not select device driver "" with capabilities: \[\[gpu\]\]: berthd has no GPU runtime/,
    );
  });
});
