// What a test daemon's containers may have left on the host: mounts, runtime state, monitors
// and processes, cgroups, netns files, veths, iptables rules. Crash tests assert the list is
// empty after the next start repaired things.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { run, type TestDaemon } from './daemon.ts';

/** Addresses the daemon reserved for a container (read from its network records on disk). */
export async function addressesOf(d: TestDaemon, id: string): Promise<string[]> {
  const dir = path.join(d.dataRoot, 'network');
  const out: string[] = [];
  for (const f of await fsp.readdir(dir).catch(() => [] as string[])) {
    const rec = JSON.parse(await fsp.readFile(path.join(dir, f), 'utf8').catch(() => '{}')) as {
      endpoints?: Record<string, { ip?: string }>;
    };
    const ip = rec.endpoints?.[id]?.ip;
    if (ip) out.push(ip);
  }
  return out;
}

/**
 * Everything of the containers `ids` (and addresses `ips`) still on the host; [] when clean.
 * Veths are counted on the bridges whatever their container: pass `bridges` only when no other
 * container runs on them.
 */
export async function leftovers(
  d: TestDaemon,
  ids: readonly string[],
  ips: readonly string[] = [],
  opts: { bridges?: readonly string[] } = {},
): Promise<string[]> {
  const found: string[] = [];
  const mountinfo = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  for (const line of mountinfo.split('\n')) {
    const m = line.split(' ')[4] ?? '';
    if (
      (m.startsWith(`${d.dataRoot}/`) || m.startsWith(`${d.dir}/exec/`)) &&
      ids.some((id) => m.includes(id))
    )
      found.push(`mount ${m}`);
  }
  const runcList = await run('runc', ['--root', path.join(d.dir, 'exec', 'runc'), 'list', '-q']);
  for (const id of runcList.stdout.split('\n').filter(Boolean))
    if (ids.includes(id)) found.push(`runc state ${id}`);
  for (const pid of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('conmon') && cmd.includes(d.dir) && ids.some((id) => cmd.includes(id)))
      found.push(`conmon pid ${pid}`);
    // A zombie holds nothing but its pid until the host's init reaps it (the kill was ours).
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (/\) Z /.test(stat)) continue;
    const cg = await fsp.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    for (const id of ids) if (cg.includes(id)) found.push(`process ${pid} (${cmd.split('\0')[0]}) in ${id}`);
  }
  const parent = `berth-test-${path.basename(d.dir).replace(/^berth-test-/, '')}`;
  for (const h of await fsp.readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    for (const id of ids) {
      const p = path.join('/sys/fs/cgroup', h, parent, id);
      if (
        await fsp.access(p).then(
          () => true,
          () => false,
        )
      )
        found.push(`cgroup ${p}`);
    }
  }
  for (const f of await fsp.readdir(path.join(d.dir, 'exec', 'netns')).catch(() => [] as string[]))
    if (ids.includes(f)) found.push(`netns ${f}`);
  for (const br of [d.bridge, ...(opts.bridges ?? [])])
    for (const port of await fsp.readdir(`/sys/class/net/${br}/brif`).catch(() => [] as string[]))
      found.push(`veth ${port} on ${br}`);
  if (ips.length > 0) {
    const rules = (await run('iptables-save', [])).stdout;
    for (const ip of ips)
      for (const l of rules.split('\n'))
        if (new RegExp(`\\b${ip.replace(/\./g, '\\.')}\\b`).test(l)) found.push(`iptables ${l}`);
  }
  return found;
}

/** Waits for a daemon that was told to crash (BERTH_CRASH_AT) to be gone; fails after `ms`. */
export async function crashed(d: TestDaemon, ms = 20_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`berthd did not crash within ${ms} ms:\n${d.logs()}`)), ms);
  });
  try {
    await Promise.race([d.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
  if (!/crash point/.test(d.logs()))
    throw new Error(`berthd exited without reaching its crash point:\n${d.logs()}`);
}
