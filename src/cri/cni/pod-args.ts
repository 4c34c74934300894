// What a PodSandboxConfig gives the CNI plugins: CNI_ARGS as containerd sends them (the kubelet's
// K8S_POD_* keys, IgnoreUnknown so plugins that do not know them accept them) and the capability
// args: `portMappings` (for portmap) from port_mappings, `dns` from dns_config. Checked before
// anything is made: a bad port mapping is INVALID_ARGUMENT naming its index.
import net from 'node:net';
import { invalidField } from '../errors.ts';
import type { Msg } from '../server.ts';

export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIP?: string;
}

export interface PodNetworkArgs {
  readonly args: ReadonlyArray<readonly [string, string]>;
  readonly capabilityArgs: Record<string, unknown>;
}

const PROTOCOLS = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' } as const;

function port(v: unknown, field: string, allowZero: boolean): number {
  const n = Number(v ?? 0);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535)
    throw invalidField(field, `${String(v)} is not a port (1-65535)`);
  return n;
}

/** port_mappings with a host port, as portmap's runtimeConfig wants them (containerd skips host_port 0). */
export function portMappingsOf(config: Msg): PortMapping[] {
  const out: PortMapping[] = [];
  ((config?.port_mappings ?? []) as Msg[]).forEach((m, i) => {
    const f = `config.port_mappings[${i}]`;
    const containerPort = port(m.container_port, `${f}.container_port`, false);
    const hostPort = port(m.host_port, `${f}.host_port`, true);
    const protocol = PROTOCOLS[String(m.protocol ?? 'TCP') as keyof typeof PROTOCOLS];
    if (!protocol)
      throw invalidField(`${f}.protocol`, `unknown protocol ${String(m.protocol)}: use TCP, UDP or SCTP`);
    const hostIP = String(m.host_ip ?? '');
    if (hostIP !== '' && net.isIP(hostIP) === 0)
      throw invalidField(`${f}.host_ip`, `"${hostIP}" is not an IP address`);
    if (hostPort === 0) return;
    out.push({ hostPort, containerPort, protocol, ...(hostIP ? { hostIP } : {}) });
  });
  return out;
}

export function podNetworkArgs(id: string, config: Msg): PodNetworkArgs {
  const md = config?.metadata ?? {};
  const capabilityArgs: Record<string, unknown> = {};
  const ports = portMappingsOf(config);
  if (ports.length > 0) capabilityArgs.portMappings = ports;
  const dns = config?.dns_config;
  if (dns && (dns.servers?.length || dns.searches?.length || dns.options?.length))
    capabilityArgs.dns = {
      servers: (dns.servers ?? []).map(String),
      searches: (dns.searches ?? []).map(String),
      options: (dns.options ?? []).map(String),
    };
  // CNI_ARGS is `K=V;K=V`: a value holding `;` or `=` would smuggle in arguments of its own.
  const value = (field: string, v: unknown): string => {
    const s = String(v ?? '');
    if (/[;=\0]/.test(s))
      throw invalidField(
        `config.metadata.${field}`,
        `"${s}" must not contain ';', '=' or NUL (it goes into CNI_ARGS)`,
      );
    return s;
  };
  return {
    args: [
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAMESPACE', value('namespace', md.namespace)],
      ['K8S_POD_NAME', value('name', md.name)],
      ['K8S_POD_INFRA_CONTAINER_ID', id],
      ['K8S_POD_UID', value('uid', md.uid)],
    ],
    capabilityArgs,
  };
}
