// What `docker info`, `berth info`, `docker version` and `berthd --version` tell an operator:
// runtime and its version, cgroups, storage, registries, live restore, security options and
// warnings that are true of this machine (read here from /proc and /sys, independently of
// berthd).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startTestDaemon({
    config: {
      labels: ['role=ci'],
      'insecure-registries': ['registry.ci:5000'],
      'registry-mirrors': ['https://m.ci'],
    },
  });
});
after(async () => {
  await d?.cleanup();
});

const read = (p: string) => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** The warnings dockerd would print here, from the machine itself. */
function expectedWarnings(): string[] {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const memory = v2
    ? (read('/sys/fs/cgroup/cgroup.controllers') ?? '').split(' ').includes('memory')
    : existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const swap = v2
    ? execFileSync('sh', ['-c', 'ls /sys/fs/cgroup/*/memory.swap.max 2>/dev/null | head -1'], {
        encoding: 'utf8',
      }).trim() !== ''
    : existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
  const w: string[] = [];
  if (!memory) w.push('WARNING: No memory limit support');
  if (!swap) w.push('WARNING: No swap limit support');
  if (read('/proc/sys/net/ipv4/ip_forward') !== '1') w.push('WARNING: IPv4 forwarding is disabled');
  if (read('/proc/sys/net/bridge/bridge-nf-call-iptables') !== '1')
    w.push('WARNING: bridge-nf-call-iptables is disabled');
  if (read('/proc/sys/net/bridge/bridge-nf-call-ip6tables') !== '1')
    w.push('WARNING: bridge-nf-call-ip6tables is disabled');
  return w;
}

describe('info for operators', () => {
  test('docker info: runtime, cgroups, storage, registries, security, true warnings', async () => {
    const r = await d.docker(['info', '--format', '{{json .}}']);
    assert.equal(r.code, 0, r.stderr);
    const i = JSON.parse(r.stdout);
    const runc = execFileSync('runc', ['--version'], { encoding: 'utf8' });
    const commit = /^commit:\s*(\S+)/m.exec(runc)?.[1] ?? '';
    assert.equal(i.RuncCommit.ID, commit);
    assert.equal(i.DefaultRuntime, 'runc');
    assert.equal(i.CgroupVersion, existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1');
    assert.equal(i.CgroupDriver, 'cgroupfs');
    assert.equal(i.Driver, 'overlay2');
    assert.ok(i.DriverStatus.some(([k, v]: [string, string]) => k === 'Backing Filesystem' && v !== ''));
    assert.equal(i.LiveRestoreEnabled, true);
    assert.deepEqual(i.Labels, ['role=ci']);
    assert.deepEqual(i.RegistryConfig.Mirrors, ['https://m.ci/']);
    assert.equal(i.RegistryConfig.IndexConfigs['registry.ci:5000'].Secure, false);
    const seccomp = /^Seccomp:\s*\d/m.test(read('/proc/self/status') ?? '');
    assert.deepEqual(i.SecurityOptions, seccomp ? ['name=seccomp,profile=builtin'] : []);
    const swap = !expectedWarnings().includes('WARNING: No swap limit support');
    assert.equal(i.SwapLimit, swap);
    // BridgeNfIptables is always false from API 1.48 and gone at 1.50: ask as a 1.47 client.
    const raw = JSON.parse((await d.request('GET', '/v1.47/info')).body.toString());
    assert.equal(raw.BridgeNfIptables, read('/proc/sys/net/bridge/bridge-nf-call-iptables') === '1');
    assert.equal(i.IPv4Forwarding, read('/proc/sys/net/ipv4/ip_forward') === '1');
    assert.deepEqual(
      i.Warnings.filter((w: string) => !/runc|conmon/.test(w)),
      expectedWarnings(),
    );
    // The plain output prints the warnings on stderr, as docker does.
    const plain = await d.docker(['info']);
    assert.equal(plain.code, 0, plain.stderr);
    for (const w of expectedWarnings()) assert.ok(plain.stderr.includes(w), `${w} in:\n${plain.stderr}`);
    assert.match(plain.stdout, new RegExp(` runc version: ${commit.replaceAll('+', '\\+')}\n`));
  });

  test('berth info prints the same operator lines as docker info', async () => {
    const docker = (await d.docker(['info'])).stdout;
    const berth = await d.berth(['info']);
    assert.equal(berth.code, 0, berth.stderr);
    const block = (text: string, title: string) => {
      const m = new RegExp(`\\n ${title}:\\n((?: {2}.*\\n)+)`).exec(text);
      return m?.[1];
    };
    for (const title of ['Security Options', 'Labels', 'Insecure Registries', 'Registry Mirrors']) {
      assert.ok(
        block(docker, title) !== undefined || title === 'Security Options',
        `${title} in docker info`,
      );
      assert.equal(block(berth.stdout, title), block(docker, title), title);
    }
    for (const line of [
      / runc version: .+\n/,
      / Cgroup Driver: cgroupfs\n/,
      / Live Restore Enabled: true\n/,
    ]) {
      assert.equal(line.exec(berth.stdout)?.[0], line.exec(docker)?.[0]);
    }
    for (const w of expectedWarnings()) assert.ok(berth.stderr.includes(w), w);
  });

  test('docker version names the runtime with its version; berthd --version its build', async () => {
    const r = await d.docker(['version', '--format', '{{json .Server.Components}}']);
    assert.equal(r.code, 0, r.stderr);
    const runc = (JSON.parse(r.stdout) as { Name: string; Version: string }[]).find((c) => c.Name === 'runc');
    const version = /runc version\s+(\S+)/.exec(
      execFileSync('runc', ['--version'], { encoding: 'utf8' }),
    )?.[1];
    assert.equal(runc?.Version, version);
    const v = await run(process.execPath, [path.join(ROOT, 'dist/berthd.mjs'), '--version']);
    const commit = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    assert.match(v.stdout, new RegExp(`^Berth version \\d+\\.\\d+\\.\\d+\\S*, build ${commit}\n$`));
    const git = await d.docker(['version', '--format', '{{.Server.GitCommit}}']);
    assert.equal(git.stdout.trim(), commit);
  });
});
