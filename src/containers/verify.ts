// What Docker refuses at `POST /containers/create` (moby's verifyContainerSettings and the CLI's
// opts validators), checked before anything is stored. The body's types are already right (the
// API edge decodes it against the Engine API's Go types); these are the values a record must
// never hold because a later step (start, resolv.conf, /etc/hosts, runc) would read them wrong.
import net from 'node:net';
import { InvalidArgumentError } from '../errdefs/index.ts';
import type { ContainerConfig, HostConfig } from './record.ts';

function bad(code: string, message: string): never {
  throw new InvalidArgumentError(code, message);
}

/** Go's time.Duration text for the 1ms floor of healthcheck durations. */
const MIN_DURATION_NS = 1_000_000;

/** RFC 1123 labels, dot-separated (moby's hostname check); Linux keeps at most 64 bytes. */
const HOSTNAME =
  /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const HOST_NAME_MAX = 64;

/** A DNS search domain (the CLI's ValidateDNSSearch): labels of letters, digits, `-` and `_`. */
const DOMAIN =
  /^(?=.{1,255}$)[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*\.?$/;

/** `80`, `80/tcp`, `8000-8010/udp` (nat.ParsePortSpec without the host part). */
const PORT_KEY = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/([a-zA-Z]+))?$/;

function verifyHealthcheck(h: ContainerConfig['Healthcheck']): void {
  if (!h) return;
  for (const k of ['Interval', 'Timeout', 'StartPeriod'] as const) {
    const v = h[k] ?? 0;
    if (v !== 0 && v < MIN_DURATION_NS)
      bad('INVALID_HEALTHCHECK', `${k} in Healthcheck cannot be less than 1ms`);
  }
  if ((h.Retries ?? 0) < 0) bad('INVALID_HEALTHCHECK', 'Retries in Healthcheck cannot be negative');
  const t = h.Test ?? [];
  if (t.length > 0 && !['NONE', 'CMD', 'CMD-SHELL'].includes(t[0]!))
    bad(
      'INVALID_HEALTHCHECK',
      `unknown Healthcheck type "${t[0]}": the test must start with NONE, CMD or CMD-SHELL`,
    );
}

function verifyExposedPorts(ports: Record<string, unknown> | undefined): void {
  for (const key of Object.keys(ports ?? {})) {
    const m = PORT_KEY.exec(key);
    const proto = m?.[3]?.toLowerCase() ?? 'tcp';
    if (
      !m ||
      Number(m[1]) > 65535 ||
      (m[2] !== undefined && (Number(m[2]) > 65535 || Number(m[2]) < Number(m[1]))) ||
      !['tcp', 'udp', 'sctp'].includes(proto)
    )
      bad('INVALID_PORT', `invalid port specification: "${key}"`);
  }
}

/** PortBindings as moby checks them: container port keys, host ports and host addresses. */
function verifyPortBindings(h: HostConfig): void {
  const bindings = (h.PortBindings ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[] | null>;
  verifyExposedPorts(bindings);
  for (const list of Object.values(bindings)) {
    for (const b of list ?? []) {
      const hp = b.HostPort ?? '';
      const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(hp);
      if (hp !== '' && (!m || Number(m[1]) > 65535 || (m[2] !== undefined && Number(m[2]) > 65535)))
        bad('INVALID_PORT', `invalid port specification: "${hp}"`);
      const ip = b.HostIp ?? '';
      if (ip !== '' && net.isIP(ip) === 0) bad('INVALID_PORT', `invalid IP address: ${ip}`);
    }
  }
}

function verifyDns(h: HostConfig): void {
  for (const ip of (h.Dns as string[] | undefined) ?? []) {
    if (net.isIP(ip) === 0) bad('INVALID_DNS', `IP address is not correctly formatted: ${ip}`);
  }
  for (const d of (h.DnsSearch as string[] | undefined) ?? []) {
    if (d !== '.' && !DOMAIN.test(d)) bad('INVALID_DNS', `${d} is not a valid domain`);
  }
  // Options are written as one resolv.conf line: a line break would add a nameserver.
  for (const o of (h.DnsOptions as string[] | undefined) ?? []) {
    if (o === '' || /[\s\p{Cc}]/u.test(o))
      bad('INVALID_DNS', `invalid DNS option "${o}": give one word like ndots:2, without spaces`);
  }
}

/**
 * One ExtraHosts entry: `host:ip` split at the first colon (so `h:::1` is IPv6), or `host=ip`;
 * `[v6]` brackets are dropped. The one parser for create's check and the container's /etc/hosts.
 */
export function parseExtraHost(e: string): { host: string; ip: string } | undefined {
  const eq = e.indexOf('=');
  const sep = eq !== -1 ? eq : e.indexOf(':');
  if (sep <= 0) return undefined;
  return { host: e.slice(0, sep), ip: e.slice(sep + 1).replace(/^\[(.*)\]$/, '$1') };
}

function verifyExtraHosts(h: HostConfig): void {
  for (const e of h.ExtraHosts ?? []) {
    const p = parseExtraHost(e);
    if (!p) bad('INVALID_EXTRA_HOST', `bad format for add-host: "${e}"`);
    if (!HOSTNAME.test(p.host)) bad('INVALID_EXTRA_HOST', `invalid hostname in add-host: "${e}"`);
    if (p.ip === 'host-gateway')
      bad(
        'INVALID_EXTRA_HOST',
        `"host-gateway" in add-host "${e}" is not supported by Berth yet: give the host's IP address`,
      );
    if (net.isIP(p.ip) === 0) bad('INVALID_EXTRA_HOST', `invalid IP address in add-host: "${p.ip}"`);
  }
}

function verifyHostname(name: string | undefined, field: 'Hostname' | 'Domainname'): void {
  if (!name) return;
  if (field === 'Hostname' && name.length > HOST_NAME_MAX)
    bad('INVALID_HOSTNAME', `invalid hostname format: ${name} is longer than ${HOST_NAME_MAX} characters`);
  if (name.length > 255 || !HOSTNAME.test(name.replace(/\.$/, '')))
    bad(
      'INVALID_HOSTNAME',
      `invalid ${field === 'Hostname' ? 'hostname' : 'domainname'} format: ${name} (use RFC 1123 labels: letters, digits and '-', separated by dots)`,
    );
}

function verifyWorkingDir(wd: string | undefined): void {
  if (wd && !wd.startsWith('/'))
    bad('INVALID_WORKDIR', `the working directory '${wd}' is invalid, it needs to be an absolute path`);
}

/** moby's opts.ValidateEnv: a variable needs a name (`=x` or an empty entry has none). */
function verifyEnv(env: readonly string[] | undefined): void {
  for (const e of env ?? [])
    if (e === '' || e.startsWith('=')) bad('INVALID_ENV', `invalid environment variable: ${e}`);
}

/** Throws Docker's 400 for the first setting Docker would refuse at create. */
export function verifyContainerSettings(
  config: Partial<ContainerConfig>,
  h: HostConfig,
  endpoints?: Record<string, { MacAddress?: string } | null> | null,
): void {
  verifyWorkingDir(config.WorkingDir);
  verifyEnv(config.Env);
  verifyHostname(config.Hostname, 'Hostname');
  verifyHostname(config.Domainname, 'Domainname');
  verifyHealthcheck(config.Healthcheck);
  verifyExposedPorts(config.ExposedPorts);
  verifyPortBindings(h);
  const oom = (h.OomScoreAdj as number | undefined) ?? 0;
  if (oom < -1000 || oom > 1000)
    bad('INVALID_OOM_SCORE_ADJ', `Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  verifyDns(h);
  verifyExtraHosts(h);
  verifyMac((config as { MacAddress?: string }).MacAddress);
  for (const ep of Object.values(endpoints ?? {})) verifyMac(ep?.MacAddress);
}

/** A MAC address as `ip link` takes it (the start would fail on anything else). */
export function verifyMac(mac: string | undefined): void {
  if (mac && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac))
    bad('INVALID_MAC_ADDRESS', `invalid MAC address: ${mac} (use six hex pairs like 02:42:ac:11:00:02)`);
}

/** What `POST /commit` writes into an image config: checked as create checks a container's. */
export function verifyImageOverrides(
  c:
    | { WorkingDir?: string; ExposedPorts?: Record<string, unknown>; Healthcheck?: unknown; Env?: string[] }
    | undefined,
): void {
  if (!c) return;
  verifyWorkingDir(c.WorkingDir);
  verifyEnv(c.Env);
  verifyExposedPorts(c.ExposedPorts);
  verifyHealthcheck(c.Healthcheck as ContainerConfig['Healthcheck']);
}
