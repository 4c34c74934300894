// The CRI's pod network over CNI: ADD when a sandbox's netns exists, DEL when it stops, CHECK on
// demand, each a chain over the network list's plugins as the spec's list execution says (name
// and cniVersion from the list, prevResult from the plugin before on ADD and the cached final
// result on DEL/CHECK, DEL in reverse order, runtimeConfig holding only the capabilities a
// plugin declares). Written here rather than taken from npm: no maintained Node CNI library
// exists (the reference implementation is Go's libcni).
import { status } from '@grpc/grpc-js';
import { promises as fsp } from 'node:fs';
import type { Log } from '../../base/log.ts';
import { span } from '../../base/trace.ts';
import { CriError } from '../errors.ts';
import { CniCache, type CacheEntry } from './cache.ts';
import { findPlugin, loadNetwork, type NetworkList, type PluginConf } from './config.ts';
import { type CniCommand, CniPluginError, execPlugin } from './exec.ts';
import type { PodNetworkArgs } from './pod-args.ts';

export interface CniOptions {
  readonly confDir: string;
  readonly binDirs: readonly string[];
  /** Where the per-sandbox ADD results go (on the data root: they must survive a restart). */
  readonly cacheDir: string;
  /** The deadline of each plugin run. */
  readonly timeoutMs?: number;
  readonly log: Log;
}

export interface NetworkCondition {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
}

/** The pod's addresses: the first IPv4 (else IPv6) is the pod IP, the rest are additional. */
export interface PodIps {
  readonly ips: readonly string[];
}

/** The interface inside the pod, as containerd names it. */
const IFNAME = 'eth0';
const DEFAULT_TIMEOUT_MS = 60_000;

/** The pod's IPs from a CNI result (0.3.0 and later `ips`, 0.1/0.2 `ip4`/`ip6`). */
export function ipsOf(result: Record<string, unknown> | undefined): string[] {
  if (!result) return [];
  const interfaces = (result.interfaces ?? []) as { name?: string; sandbox?: string }[];
  const found: string[] = [];
  for (const ip of (result.ips ?? []) as { address?: string; interface?: number }[]) {
    const itf = typeof ip.interface === 'number' ? interfaces[ip.interface] : undefined;
    // An address on a host-side interface (a bridge's) is not the pod's.
    if (itf && !itf.sandbox) continue;
    if (typeof ip.address === 'string') found.push(ip.address.split('/')[0]!);
  }
  for (const k of ['ip4', 'ip6'])
    if (typeof (result[k] as { ip?: string })?.ip === 'string')
      found.push((result[k] as { ip: string }).ip.split('/')[0]!);
  const v4 = found.filter((a) => !a.includes(':'));
  return [...v4, ...found.filter((a) => a.includes(':'))];
}

export class CniNetwork {
  readonly #o: CniOptions;
  readonly #cache: CniCache;

  constructor(o: CniOptions) {
    this.#o = o;
    this.#cache = new CniCache(o.cacheDir);
  }

  /** NetworkReady, as the kubelet reads it: a valid config whose plugins are installed. */
  async condition(): Promise<NetworkCondition> {
    const l = await loadNetwork(this.#o.confDir, this.#o.binDirs).catch((err: Error) => ({
      kind: 'invalid' as const,
      reason: `cannot read ${this.#o.confDir}: ${err.message}`,
    }));
    if (l.kind === 'ok') return { ready: true, reason: '', message: '' };
    return {
      ready: false,
      reason: 'NetworkPluginNotReady',
      message: `Network plugin returns error: cni config load failed: ${l.reason}`,
    };
  }

  /**
   * ADD of the pod's netns to the configured network. undefined when the folder has no config
   * at all (the pod keeps loopback only: the kubelet schedules no such pod while NetworkReady is
   * false); a broken config or a failing plugin is an error. The caller undoes a failure with
   * teardown(), which the cache written first makes possible.
   */
  async setup(id: string, netns: string, pod: PodNetworkArgs): Promise<PodIps | undefined> {
    const l = await loadNetwork(this.#o.confDir, this.#o.binDirs);
    if (l.kind === 'none') {
      this.#o.log('warn', 'no CNI config: the pod has loopback only', { id, reason: l.reason });
      return undefined;
    }
    if (l.kind === 'invalid')
      throw new CriError(status.FAILED_PRECONDITION, `cannot set up the pod network: ${l.reason}`);
    const entry: CacheEntry = {
      kind: 'berthCniCacheV1',
      containerId: id,
      ifName: IFNAME,
      netns,
      network: l.network,
      args: pod.args,
      capabilityArgs: pod.capabilityArgs,
    };
    await this.#cache.put(entry);
    let prev: Record<string, unknown> | undefined;
    for (const plugin of l.network.plugins) prev = await this.#run('ADD', entry, plugin, prev, netns);
    await this.#cache.put({ ...entry, ...(prev ? { result: prev } : {}) });
    return { ips: ipsOf(prev) };
  }

  /** The IPs a sandbox's ADD gave (from the cache, so they survive a restart). */
  async ipsOf(id: string): Promise<string[]> {
    return ipsOf((await this.#cache.get(id))?.result);
  }

  /**
   * DEL with the cached config and result, plugins in reverse order; the cache goes only when
   * every plugin succeeded, so a failed teardown can be retried. Nothing cached: nothing to do.
   */
  async teardown(id: string): Promise<void> {
    const entry = await this.#cache.get(id);
    if (!entry) return;
    // A netns that is gone (a reboot, a crash after its removal) is not passed: plugins then
    // release what they hold (IPAM, host rules) without entering it, as the spec says.
    const netns = (await fsp.stat(entry.netns).then(
      () => true,
      () => false,
    ))
      ? entry.netns
      : '';
    for (const plugin of [...entry.network.plugins].reverse())
      await this.#run('DEL', entry, plugin, entry.result, netns);
    await this.#cache.remove(id);
  }

  /** CHECK of a set-up pod (not with disableCheck, nor before ADD finished). */
  async check(id: string): Promise<void> {
    const entry = await this.#cache.get(id);
    if (!entry?.result || entry.network.disableCheck) return;
    for (const plugin of entry.network.plugins)
      await this.#run('CHECK', entry, plugin, entry.result, entry.netns);
  }

  /** Sandboxes with a cached network (set up, or an ADD a crash cut short). */
  pending(): Promise<string[]> {
    return this.#cache.ids();
  }

  async #run(
    command: CniCommand,
    entry: CacheEntry,
    plugin: PluginConf,
    prevResult: Record<string, unknown> | undefined,
    netns: string,
  ): Promise<Record<string, unknown>> {
    const file = await findPlugin(plugin.type, this.#o.binDirs);
    if (!file)
      throw new CriError(
        status.FAILED_PRECONDITION,
        `CNI plugin "${plugin.type}" (${command}) not found in ${this.#o.binDirs.join(':')}`,
      );
    try {
      return await span(`cri.cni-plugin ${plugin.type} ${command}`, () =>
        execPlugin({
          command,
          file,
          type: plugin.type,
          containerId: entry.containerId,
          netns,
          ifName: entry.ifName,
          args: entry.args,
          path: this.#o.binDirs,
          config: pluginConfig(entry.network, plugin, prevResult, entry.capabilityArgs),
          timeoutMs: this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        }),
      );
    } catch (err) {
      if (err instanceof CniPluginError)
        throw new CriError(status.UNKNOWN, `network "${entry.network.name}": ${err.message}`);
      throw err;
    }
  }
}

/** One plugin's stdin: its own keys, the list's name and version, prevResult, runtimeConfig. */
function pluginConfig(
  n: NetworkList,
  plugin: PluginConf,
  prevResult: Record<string, unknown> | undefined,
  capabilityArgs: Record<string, unknown>,
): Record<string, unknown> {
  const { runtimeConfig: _ignored, prevResult: _none, ...own } = plugin as Record<string, unknown>;
  const caps = (plugin.capabilities ?? {}) as Record<string, unknown>;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(capabilityArgs)) if (caps[k] === true) runtimeConfig[k] = v;
  return {
    ...own,
    name: n.name,
    cniVersion: n.cniVersion,
    ...(prevResult ? { prevResult } : {}),
    ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
  };
}
