// The docker CLI against berthd, container side (issue 15, items 3-6 and the battery): each
// expectation is what the docker CLI 28 printed against Docker 20.10 for the same input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const daemon = useBusyboxDaemon();
const docker = (args: string[]) => daemon.d.docker(args);

test('--link on a user-defined network: a DNS alias of the linking container only', async (t) => {
  const net = `lnk-${daemon.d.netByte}`;
  ok(await docker(['network', 'create', '--subnet', `10.198.${daemon.d.netByte}.0/24`, net]));
  t.after(async () => {
    await docker(['rm', '-f', 'ltgt', 'llnk']);
    await docker(['network', 'rm', net]);
  });
  ok(await docker(['run', '-d', '--name', 'ltgt', '--network', net, 'busybox', 'sleep', '60']));
  ok(
    await docker([
      'run',
      '-d',
      '--name',
      'llnk',
      '--network',
      net,
      '--link',
      'ltgt:alias1',
      'busybox',
      'sleep',
      '60',
    ]),
  );
  const ip = ok(
    await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, 'ltgt']),
  ).trim();
  const found = await docker(['exec', 'llnk', 'nslookup', 'alias1']);
  assert.equal(found.code, 0, found.stdout + found.stderr);
  assert.match(found.stdout, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
  // Only the linking container resolves the alias.
  const other = await docker(['exec', 'ltgt', 'nslookup', 'alias1']);
  assert.notEqual(other.code, 0, other.stdout);
  // Docker shows the link in the endpoint and, off the default bridge, none in HostConfig.Links.
  const view = ok(
    await docker([
      'inspect',
      '-f',
      `{{json (index .NetworkSettings.Networks "${net}").Links}} {{json .HostConfig.Links}}`,
      'llnk',
    ]),
  ).trim();
  assert.equal(view, '["ltgt:alias1"] null');
  // Neither /etc/hosts lines nor link env on a user network (those are the default bridge's).
  assert.doesNotMatch(ok(await docker(['exec', 'llnk', 'cat', '/etc/hosts'])), /alias1/);
  assert.doesNotMatch(ok(await docker(['exec', 'llnk', 'env'])), /ALIAS1/);
});

test('--link on the default bridge: HostConfig.Links as Docker stores them (/name:/parent/alias)', async (t) => {
  t.after(async () => {
    await docker(['rm', '-f', 'btgt', 'blnk']);
  });
  ok(await docker(['create', '--name', 'btgt', 'busybox', 'sleep', '60']));
  ok(await docker(['create', '--name', 'blnk', '--link', 'btgt:db', 'busybox', 'sleep', '60']));
  assert.equal(
    ok(await docker(['inspect', '-f', '{{json .HostConfig.Links}}', 'blnk'])).trim(),
    '["/btgt:/blnk/db"]',
  );
  assert.equal(ok(await docker(['inspect', '-f', '{{json .HostConfig.Links}}', 'btgt'])).trim(), 'null');
});

test('an invalid restart policy is refused at create with a 400 naming it', async () => {
  const cases: [string, RegExp][] = [
    ['sometimes', /Error response from daemon: invalid restart policy: unknown policy 'sometimes'/],
    [
      'always:3',
      /Error response from daemon: invalid restart policy: maximum retry count can only be used with 'on-failure'/,
    ],
    [
      'no:1',
      /Error response from daemon: invalid restart policy: maximum retry count can only be used with 'on-failure'/,
    ],
    [
      'on-failure:-1',
      /Error response from daemon: invalid restart policy: maximum retry count cannot be negative/,
    ],
  ];
  for (const [policy, text] of cases) {
    const r = await docker(['create', `--restart=${policy}`, 'busybox', 'true']);
    assert.equal(r.code, 1, `${policy}: ${r.stdout}`);
    assert.match(r.stderr, text, policy);
    const v = await docker(['run', '-d', `--restart=${policy}`, 'busybox', 'true']);
    assert.equal(v.code, 125, `${policy}: ${v.stdout}`);
    assert.match(v.stderr, text, policy);
  }
  // The docker CLI itself refuses a count that is no number (no request reaches the daemon).
  const x = await docker(['create', '--restart=on-failure:x', 'busybox', 'true']);
  assert.equal(x.code, 125);
  assert.match(x.stderr, /invalid restart policy format: maximum retry count must be an integer/);
  assert.equal(ok(await docker(['ps', '-aq', '--filter', 'ancestor=busybox'])).trim(), '', 'nothing created');
});

test('docker run --network nope: Docker text "network nope not found", exit 125, nothing left', async () => {
  const before = ok(await docker(['ps', '-aq'])).trim();
  const r = await docker(['run', '--network', 'nope', 'busybox', 'true']);
  assert.equal(r.code, 125, r.stdout);
  assert.match(r.stderr, /^docker: Error response from daemon: network nope not found/m);
  // Not a 404 at create: the CLI would then try to pull busybox.
  assert.doesNotMatch(r.stderr, /Unable to find image|pull/i);
  const c = await docker(['create', '--network', 'nope', 'busybox', 'true']);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /Error response from daemon: network nope not found/);
  assert.equal(ok(await docker(['ps', '-aq'])).trim(), before);
});

test("docker-py's CPURealtimePeriod lands in HostConfig.CpuRealtimePeriod (Go's case folding)", async () => {
  const script = `
import docker, json
c = docker.APIClient(base_url="${daemon.d.host}", version="1.41", timeout=60)
ct = c.create_container("busybox", "true", host_config=c.create_host_config(cpu_rt_period=1000))
hc = c.inspect_container(ct)["HostConfig"]
c.remove_container(ct)
print(json.dumps({"period": hc.get("CpuRealtimePeriod"), "upper": "CPURealtimePeriod" in hc}))
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { period: 1000, upper: false });
});

test('exec of a missing or non-executable command: Docker text on stdout, exit 126', async (t) => {
  t.after(async () => {
    await docker(['rm', '-f', 'xfail']);
  });
  ok(await docker(['run', '-d', '--name', 'xfail', 'busybox', 'sleep', '60']));
  const cases: [string[], string][] = [
    [['nosuch'], 'exec: "nosuch": executable file not found in $PATH'],
    [['/etc/passwd'], 'exec: "/etc/passwd": permission denied'],
    [['-t', 'nosuch'], 'exec: "nosuch": executable file not found in $PATH'],
  ];
  for (const [args, what] of cases) {
    const r = await docker(['exec', ...args.slice(0, -1), 'xfail', args.at(-1)!]);
    assert.equal(r.code, 126, r.stdout + r.stderr);
    assert.equal(
      r.stdout,
      `OCI runtime exec failed: exec failed: unable to start container process: ${what}: unknown\r\n`,
    );
    assert.equal(r.stderr, '');
  }
  // The process's own stderr and exit code (even 255) pass untouched.
  const own = await docker(['exec', 'xfail', 'sh', '-c', 'echo mine >&2; exit 255']);
  assert.equal(own.code, 255);
  assert.equal(own.stderr, 'mine\n');
  assert.equal(own.stdout, '');
});

test('docker wait of an unknown container: the 404 text, not "EOF"', async () => {
  const r = await docker(['wait', 'nope']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Error response from daemon: No such container: nope$/m);
  assert.doesNotMatch(r.stderr, /EOF/);
});

test('run --rm of a missing command: only the start error (no "Error waiting for container"), 127', async () => {
  const r = await docker(['run', '--rm', 'busybox', 'nosuchcmd']);
  assert.equal(r.code, 127);
  assert.match(
    r.stderr,
    /^docker: Error response from daemon: .*exec: "nosuchcmd": executable file not found in \$PATH/m,
  );
  assert.doesNotMatch(r.stderr, /Error waiting for container/);
  // A container that failed to start still reports the error to a wait that comes later.
  const id = ok(await docker(['create', 'busybox', 'nosuchcmd'])).trim();
  assert.equal((await docker(['start', id])).code, 1);
  const w = await daemon.d.request('POST', `/v1.41/containers/${id}/wait`);
  const body = JSON.parse(w.body.toString()) as { StatusCode: number; Error: { Message: string } | null };
  assert.equal(body.StatusCode, 127);
  assert.match(body.Error?.Message ?? '', /nosuchcmd/);
  ok(await docker(['rm', id]));
});

test('the process has its primary group among its groups, as Docker gives it (id)', async () => {
  const cases: [string[], string][] = [
    [['--user', '4242'], 'uid=4242 gid=0(root) groups=0(root)'],
    [['--user', 'nobody'], 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)'],
    [['--user', '4242:4343'], 'uid=4242 gid=4343 groups=4343'],
    [
      ['--user', 'nobody', '--group-add', '20'],
      'uid=65534(nobody) gid=65534(nogroup) groups=20,65534(nogroup)',
    ],
  ];
  for (const [flags, want] of cases) {
    assert.equal(
      ok(await docker(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'id'])).trim(),
      want,
    );
  }
  // exec resolves the user the same way.
  ok(await docker(['run', '-d', '--name', 'idx', '--network', 'none', 'busybox', 'sleep', '60']));
  try {
    assert.equal(
      ok(await docker(['exec', '-u', '4242', 'idx', 'id'])).trim(),
      'uid=4242 gid=0(root) groups=0(root)',
    );
  } finally {
    await docker(['rm', '-f', 'idx']);
  }
});

test('inspect has every HostConfig field Docker has, for a client that sent almost none (docker-py)', async () => {
  const script = `
import docker, json
c = docker.APIClient(base_url="${daemon.d.host}", version="1.41", timeout=60)
ct = c.create_container("busybox", "true")
hc = c.inspect_container(ct)["HostConfig"]
c.remove_container(ct)
print(json.dumps(hc))
`;
  const r = await run('python3', ['-c', script], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const hc = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  // What Docker 20.10 answered for the same request (the field set and its zero values).
  const docker2010: Record<string, unknown> = {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'json-file', Config: {} },
    NetworkMode: 'default',
    PortBindings: null,
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: 'host',
    Dns: null,
    DnsOptions: null,
    DnsSearch: null,
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 67108864,
    ConsoleSize: [0, 0],
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    KernelMemory: 0,
    KernelMemoryTCP: 0,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: false,
    PidsLimit: null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
  };
  for (const [k, v] of Object.entries(docker2010)) assert.deepEqual(hc[k], v, k);
  assert.ok(Array.isArray(hc.MaskedPaths) && (hc.MaskedPaths as string[]).includes('/proc/kcore'));
  assert.deepEqual(hc.ReadonlyPaths, [
    '/proc/bus',
    '/proc/fs',
    '/proc/irq',
    '/proc/sys',
    '/proc/sysrq-trigger',
  ]);
  // The docker CLI's templates reach any of them.
  const id = ok(await docker(['create', 'busybox', 'true'])).trim();
  assert.equal(
    ok(
      await docker([
        'inspect',
        '-f',
        '{{.HostConfig.ShmSize}} {{.HostConfig.IpcMode}} {{.HostConfig.CgroupnsMode}}',
        id,
      ]),
    ).trim(),
    '67108864 private host',
  );
  // Config too: Volumes and OnBuild are null, not absent, as Docker's.
  assert.equal(
    ok(await docker(['inspect', '-f', '{{json .Config.Volumes}} {{json .Config.OnBuild}}', id])).trim(),
    'null null',
  );
  ok(await docker(['rm', id]));
});
