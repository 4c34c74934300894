// Security defaults and options, asserted inside containers through the docker CLI and the berth CLI:
// capabilities, privileged, seccomp (default, unconfined, a profile file), masked paths, read-only
// root, no-new-privileges, devices, namespaces, sysctls, and bad input refused before creation.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
let tmp: string;
before(async () => {
  d = await startTestDaemon();
  tmp = mkdtempSync(path.join(tmpdir(), 'berth-sec-'));
  const r = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox:latest']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  if (d) {
    const ids = (await d.docker(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length > 0) await d.docker(['rm', '-f', ...ids]);
    await d.cleanup();
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

type Cli = 'docker' | 'berth';
const cli = (c: Cli, args: string[]) => (c === 'docker' ? d.docker(args) : d.berth(args));
const sh = (c: Cli, flags: string[], script: string) =>
  cli(c, ['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);

for (const c of ['docker', 'berth'] as const) {
  describe(`${c}: security options`, () => {
    test('--cap-drop CHOWN makes chown fail; the default set allows it', async () => {
      assert.equal((await sh(c, [], 'chown 1 /tmp')).code, 0);
      const r = await sh(c, ['--cap-drop', 'CHOWN'], 'chown 1 /tmp');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Operation not permitted/);
      const all = await sh(
        c,
        ['--cap-drop', 'ALL', '--cap-add', 'CHOWN'],
        'chown 1 /tmp && grep CapEff /proc/self/status',
      );
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /CapEff:\s+0000000000000001/);
    });

    test('default seccomp blocks unshare of a user namespace; unconfined and a profile file', async () => {
      const blocked = await sh(c, [], 'unshare -U true');
      assert.notEqual(blocked.code, 0);
      const free = await sh(c, ['--security-opt', 'seccomp=unconfined'], 'unshare -U true');
      assert.equal(free.code, 0, free.stderr);
      const profile = path.join(tmp, `deny-mkdir-${c}.json`);
      writeFileSync(
        profile,
        JSON.stringify({
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
        }),
      );
      const denied = await sh(c, ['--security-opt', `seccomp=${profile}`], 'mkdir /tmp/x');
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /Operation not permitted/);
    });

    test('--privileged mounts a tmpfs and has a writable /sys; the default cannot', async () => {
      const r = await sh(
        c,
        ['--privileged'],
        "mkdir -p /mnt && mount -t tmpfs none /mnt && grep ' /sys ' /proc/mounts && grep CapEff /proc/self/status",
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /sysfs rw/);
      // Every capability of the host's bounding set (this VM lacks CAP_SYS_RESOURCE), no more.
      const bnd = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s*(\w+)/m)?.[1];
      assert.match(r.stdout, new RegExp(`CapEff:\\s+${bnd}`));
      assert.notEqual((await sh(c, [], 'mkdir -p /mnt && mount -t tmpfs none /mnt')).code, 0);
    });

    // This kernel has no /proc/kcore; /proc/timer_list is masked the same way and is not empty on the host.
    test('masked /proc/timer_list, read-only root, no-new-privileges', async () => {
      const r = await sh(
        c,
        ['--security-opt', 'no-new-privileges', '--security-opt', 'label=disable'],
        'wc -c < /proc/timer_list; grep NoNewPrivs /proc/self/status',
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^0\nNoNewPrivs:\s+1\n$/);
      const ro = await sh(c, ['--read-only'], 'touch /x');
      assert.notEqual(ro.code, 0);
      assert.match(ro.stderr, /Read-only file system/);
    });

    test('--device with a new path and --device-cgroup-rule', async () => {
      const r = await sh(
        c,
        ['--device', '/dev/null:/dev/mynull:rw'],
        'test -c /dev/mynull && echo hi > /dev/mynull && echo ok',
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'ok\n');
      // /dev/kmsg (1:11) is not in the default rules: mknod works but opening is refused unless a rule allows it
      // (written, not read: reading kmsg needs CAP_SYSLOG).
      const denied = await sh(c, [], 'mknod /tmp/k c 1 11 && echo berth-test > /tmp/k');
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /Operation not permitted/);
      const allowed = await sh(
        c,
        ['--device-cgroup-rule', 'c 1:11 w'],
        'mknod /tmp/k c 1 11 && echo berth-test > /tmp/k && echo ok',
      );
      assert.equal(allowed.code, 0, allowed.stderr);
    });

    test('--pid host sees the host init; --uts host sees the host name', async () => {
      const r = await sh(c, ['--pid', 'host', '--uts', 'host'], 'cat /proc/1/comm; hostname');
      assert.equal(r.code, 0, r.stderr);
      const hostInit = readFileSync('/proc/1/comm', 'utf8');
      const hostName = readFileSync('/proc/sys/kernel/hostname', 'utf8');
      assert.equal(r.stdout, `${hostInit}${hostName}`);
    });

    test('--ipc container: and --pid container: join the other container', async () => {
      const name = `sec-ipc-${c}`;
      const up = await cli(c, ['run', '-d', '--name', name, '--ipc', 'shareable', 'busybox', 'sleep', '60']);
      assert.equal(up.code, 0, up.stderr);
      const theirs = await cli(c, ['exec', name, 'readlink', '/proc/self/ns/ipc']);
      const mine = await sh(
        c,
        ['--ipc', `container:${name}`, '--pid', `container:${name}`],
        'readlink /proc/self/ns/ipc; cat /proc/1/cmdline',
      );
      assert.equal(mine.code, 0, mine.stderr);
      assert.equal(mine.stdout, `${theirs.stdout}sleep\x0060\x00`);
      const own = await sh(c, [], 'readlink /proc/self/ns/ipc');
      assert.notEqual(own.stdout, theirs.stdout);
      await cli(c, ['rm', '-f', name]);
    });

    test('namespaced sysctls are set; others are refused', async () => {
      const r = await sh(
        c,
        ['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=65536'],
        'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax',
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1\n65536\n');
      const bad = await sh(c, ['--sysctl', 'kernel.hostname=x'], 'true');
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /sysctl .kernel\.hostname.* is not allowed/);
    });

    test('bad input is refused with a message and creates nothing', async () => {
      const before = (await d.docker(['ps', '-aq'])).stdout;
      const cap = await sh(c, ['--cap-add', 'NOPE'], 'true');
      assert.notEqual(cap.code, 0);
      assert.match(cap.stderr, /unknown capability: "(CAP_)?NOPE"/);
      const bad = path.join(tmp, `bad-${c}.json`);
      writeFileSync(bad, '{"defaultAction": ');
      const sec = await sh(c, ['--security-opt', `seccomp=${bad}`], 'true');
      assert.notEqual(sec.code, 0);
      assert.match(sec.stderr, /seccomp/);
      const dev = await sh(c, ['--device', '/dev/nonexistent'], 'true');
      assert.notEqual(dev.code, 0);
      assert.match(
        dev.stderr,
        /error gathering device information while adding custom device "\/dev\/nonexistent": no such file or directory/,
      );
      assert.equal((await d.docker(['ps', '-aq'])).stdout, before);
    });
  });
}

test('the API answers 400 for a malformed seccomp profile', async () => {
  const body = JSON.stringify({
    Image: 'busybox',
    HostConfig: { SecurityOpt: ['seccomp={"defaultAction":'] },
  });
  const r = await d.request('POST', '/containers/create', body, { 'content-type': 'application/json' });
  assert.equal(r.status, 400, r.body.toString());
  assert.match(r.body.toString(), /decoding seccomp profile failed/);
});

test('exec --privileged gives the command the host bounding set of capabilities', async () => {
  const id = (await d.docker(['run', '-d', 'busybox', 'sleep', '120'])).stdout.trim();
  const eff = async (extra: string[]) =>
    (
      await d.docker(['exec', ...extra, id, 'sh', '-c', 'grep CapEff /proc/self/status | cut -f2'])
    ).stdout.trim();
  const plain = BigInt(`0x${await eff([])}`);
  const privileged = BigInt(`0x${await eff(['--privileged'])}`);
  const hostBnd = BigInt(`0x${/CapBnd:\s+([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
  assert.equal(privileged, hostBnd);
  assert.ok(privileged > plain && (privileged & plain) === plain);
  await d.docker(['rm', '-f', id]);
});
