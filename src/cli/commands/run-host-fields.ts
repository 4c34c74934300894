// run/create flags whose HostConfig fields berthd checks itself: annotations, the cgroup parent
// and the OOM score adjustment (OCI spec),
// memory swappiness (cgroup v1), storage options and GPU requests (refused by berthd with the
// reason, so the docker CLI and berth fail the same way instead of berth refusing alone).
import type { Command } from 'commander';
import { CliError, collect } from '../context.ts';

export interface HostFieldOptions {
  annotation: string[];
  memorySwappiness: string;
  oomScoreAdj: string;
  storageOpt: string[];
  gpus?: string;
  cgroupParent?: string;
}

export function addHostFieldOptions(c: Command): Command {
  return c
    .option(
      '--annotation <map>',
      'Add an annotation to the container (passed through to the OCI runtime)',
      collect,
      [],
    )
    .option('--cgroup-parent <string>', 'Optional parent cgroup for the container')
    .option('--memory-swappiness <int>', 'Tune container memory swappiness (0 to 100)', '-1')
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)", '0')
    .option('--storage-opt <list>', 'Storage driver options for the container', collect, [])
    .option('--gpus <gpu-request>', "GPU devices to add to the container ('all' to pass all GPUs)");
}

function usage(msg: string): never {
  throw new CliError(`invalid argument ${msg}\nSee 'berth run --help'.`, 125);
}

/** `k=v` pairs into a map; a bare key gets an empty value (docker's MapOpts). */
function toMap(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list) {
    const i = s.indexOf('=');
    if (i === 0) usage(`"${s}" for "--annotation" flag: the key is empty: use key=value`);
    out[i === -1 ? s : s.slice(0, i)] = i === -1 ? '' : s.slice(i + 1);
  }
  return out;
}

/** docker's `--gpus` grammar: `all`, a count, or `count=,device=,driver=,capabilities=,options=`. */
export function parseGpus(v: string): Record<string, unknown> {
  const req: Record<string, unknown> = {
    Driver: '',
    Count: 0,
    DeviceIDs: null,
    Capabilities: [['gpu']],
    Options: {},
  };
  // csv as docker reads it: a quoted field may hold commas ("device=0,1").
  const fields = v.match(/("[^"]*"|[^,]+)/g)?.map((f) => f.replace(/^"|"$/g, '')) ?? [];
  for (const f of fields) {
    const i = f.indexOf('=');
    const key = i === -1 ? '' : f.slice(0, i);
    const val = i === -1 ? f : f.slice(i + 1);
    if (key === '' || key === 'count') {
      if (val === 'all') req.Count = -1;
      else if (/^\d+$/.test(val)) req.Count = Number(val);
      else usage(`"${v}" for "--gpus" flag: invalid count (${JSON.stringify(val)}): use all or a number`);
    } else if (key === 'device') req.DeviceIDs = val.split(',');
    else if (key === 'driver') req.Driver = val;
    else if (key === 'capabilities') req.Capabilities = [val.split(',')];
    else if (key === 'options') req.Options = toMap(val.split(','));
    else usage(`"${v}" for "--gpus" flag: unexpected key '${key}' in '${f}'`);
  }
  return req;
}

/** The HostConfig fields for these flags (nothing for flags not given). */
export function hostFieldConfig(o: HostFieldOptions): Record<string, unknown> {
  const h: Record<string, unknown> = {};
  if (o.annotation.length) h.Annotations = toMap(o.annotation);
  const sw = o.memorySwappiness.trim();
  if (!/^-?\d+$/.test(sw))
    usage(`"${o.memorySwappiness}" for "--memory-swappiness" flag: expected an integer from 0 to 100`);
  // -1 is docker's "not set": the kernel's (or the parent cgroup's) value applies.
  if (Number(sw) !== -1) h.MemorySwappiness = Number(sw);
  // The range is berthd's to check (the docker CLI leaves it to dockerd too).
  const oom = o.oomScoreAdj.trim();
  if (!/^-?\d+$/.test(oom)) usage(`"${o.oomScoreAdj}" for "--oom-score-adj" flag: expected an integer`);
  if (Number(oom) !== 0) h.OomScoreAdj = Number(oom);
  if (o.storageOpt.length) {
    const m: Record<string, string> = {};
    for (const s of o.storageOpt) {
      const i = s.indexOf('=');
      if (i <= 0) usage(`"${s}" for "--storage-opt" flag: invalid storage option: use key=value`);
      m[s.slice(0, i)] = s.slice(i + 1);
    }
    h.StorageOpt = m;
  }
  if (o.gpus !== undefined) h.DeviceRequests = [parseGpus(o.gpus)];
  // Checked by berthd (a hostile path is refused there with its reason).
  if (o.cgroupParent) h.CgroupParent = o.cgroupParent;
  return h;
}
