// `com.docker.compose.config-hash` as Compose v2 computes it (pkg/compose/hash.go ServiceHash):
// sha256 of Go's json.Marshal of compose-go's types.ServiceConfig with build, pull_policy, scale,
// deploy.replicas, depends_on and profiles cleared. So a container `docker compose up` made is
// not recreated by `berth compose up` (and the other way round), the JSON here is Go's:
// - struct fields in ServiceConfig's declaration order (compose-go v2.14, types/types.go), map
//   keys sorted, `omitempty` dropping "", 0, false, nil and empty lists and maps — but not
//   non-nil pointers (`init: false` stays) nor struct values (`deploy.resources: {}` stays);
// - `command` and `entrypoint` are never omitted (null when unset);
// - compose-go's own encoders: durations as Go prints them ("1m30s"), byte sizes as a quoted
//   number of bytes, file modes as "0444", ulimits as a number or {soft, hard}, extra_hosts as a
//   sorted `host=ip` list, bind `create_host_path` only when false (omitzero of an opt-out);
// - Go's string escaping (<, >, & and U+2028/2029 as \u escapes).
// Berth's normalised model already has compose-go's shapes (long port and volume syntax,
// environment as a mapping, `networks: {default: null}`); env_file is left out because v2 loads
// the project with the files merged into environment and discarded. Fields below that are not
// listed in ORDER (compose-go additions Berth does not model) are ignored.
import { createHash } from 'node:crypto';
import { bytes, durationNs } from './create.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A JSON encoder for one field; undefined leaves the field out. */
type Enc = (v: unknown) => string | undefined;

/** Go's encoding/json string form. */
export function goString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Go's time.Duration.String() of a number of nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e3) out = `${u}ns`;
  else if (u < 1e6) out = `${trim(u / 1e3)}µs`;
  else if (u < 1e9) out = `${trim(u / 1e6)}ms`;
  else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const s = `${trim(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}

const empty = (v: unknown) =>
  v === undefined ||
  v === null ||
  v === '' ||
  v === false ||
  v === 0 ||
  (Array.isArray(v) && v.length === 0) ||
  (isObj(v) && Object.keys(v).length === 0);

// Encoders. `omit*` variants return undefined for Go's empty values.
const raw: Enc = (v) => {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return goString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => raw(x)).join(',')}]`;
  if (isObj(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${goString(k)}:${raw(v[k])}`)
      .join(',')}}`;
  return goString(String(v));
};
const omit =
  (e: Enc): Enc =>
  (v) =>
    empty(v) ? undefined : e(v);
/** A pointer: left out only when unset. */
const ptr =
  (e: Enc): Enc =>
  (v) =>
    v === undefined || v === null ? undefined : e(v);
const str: Enc = (v) => goString(String(v));
const num: Enc = (v) => String(Number(v));
const list =
  (e: Enc): Enc =>
  (v) =>
    `[${(Array.isArray(v) ? v : [v]).map((x) => e(x) ?? 'null').join(',')}]`;
/** A Go map: keys sorted; values through `e` (a nil value is null). */
const map =
  (e: Enc): Enc =>
  (v) =>
    `{${Object.keys(v as Obj)
      .sort()
      .map((k) => `${goString(k)}:${(v as Obj)[k] === null ? 'null' : (e((v as Obj)[k]) ?? 'null')}`)
      .join(',')}}`;
const strMap = map((x) => goString(String(x)));
const unitBytes: Enc = (v) => `"${bytes(v) ?? 0}"`;
const duration: Enc = (v) => goString(goDuration(durationNs(v) ?? 0));
const fileMode: Enc = (v) => `"0${Number(typeof v === 'string' ? Number.parseInt(v, 8) : v).toString(8)}"`;

/** A Go struct: fields in order, each with its encoder (which may leave it out). */
function struct(fields: readonly (readonly [string, Enc])[]): Enc {
  return (v) => {
    const o = (isObj(v) ? v : {}) as Obj;
    const parts: string[] = [];
    for (const [k, e] of fields) {
      const out = e(o[k]);
      if (out !== undefined) parts.push(`${goString(k)}:${out}`);
    }
    return `{${parts.join(',')}}`;
  };
}

const healthcheck = struct([
  ['test', omit(list(str))],
  ['timeout', ptr(duration)],
  ['interval', ptr(duration)],
  ['retries', ptr(num)],
  ['start_period', ptr(duration)],
  ['start_interval', ptr(duration)],
  ['disable', omit(raw)],
]);

const port = struct([
  ['name', omit(str)],
  ['mode', omit(str)],
  ['host_ip', omit(str)],
  ['target', omit(num)],
  ['published', omit(str)],
  ['protocol', omit(str)],
  ['app_protocol', omit(str)],
]);

const volume = struct([
  ['type', omit(str)],
  ['source', omit(str)],
  ['target', omit(str)],
  ['read_only', omit(raw)],
  ['consistency', omit(str)],
  [
    'bind',
    ptr(
      struct([
        ['selinux', omit(str)],
        ['propagation', omit(str)],
        // OptOut with omitzero: true (the default) is left out, false is written.
        ['create_host_path', (v) => (v === false ? 'false' : undefined)],
        ['recursive', omit(str)],
      ]),
    ),
  ],
  [
    'volume',
    ptr(
      struct([
        ['labels', omit(strMap)],
        ['nocopy', omit(raw)],
        ['subpath', omit(str)],
      ]),
    ),
  ],
  [
    'tmpfs',
    ptr(
      struct([
        ['size', omit(unitBytes)],
        ['mode', omit(num)],
      ]),
    ),
  ],
  ['image', ptr(struct([['subpath', omit(str)]]))],
]);

const serviceNetwork = struct([
  ['aliases', omit(list(str))],
  ['driver_opts', omit(strMap)],
  ['gw_priority', omit(num)],
  ['interface_name', omit(str)],
  ['ipv4_address', omit(str)],
  ['ipv6_address', omit(str)],
  ['link_local_ips', omit(list(str))],
  ['mac_address', omit(str)],
  ['priority', omit(num)],
]);

const fileRef = struct([
  ['source', omit(str)],
  ['target', omit(str)],
  ['uid', omit(str)],
  ['gid', omit(str)],
  ['mode', ptr(fileMode)],
]);

const ulimit: Enc = (v) =>
  typeof v === 'number'
    ? String(v)
    : struct([
        ['soft', omit(num)],
        ['hard', omit(num)],
      ])(v);

const resource = struct([
  ['cpus', omit((v) => String(Number(v)))],
  ['memory', omit(unitBytes)],
  ['pids', omit(num)],
  ['devices', omit(raw)],
  ['generic_resources', omit(raw)],
]);

const deploy = struct([
  ['mode', omit(str)],
  ['labels', omit(strMap)],
  ['update_config', ptr(raw)],
  ['rollback_config', ptr(raw)],
  // Struct values: never left out, even when empty.
  [
    'resources',
    struct([
      ['limits', ptr(resource)],
      ['reservations', ptr(resource)],
    ]),
  ],
  ['restart_policy', ptr(raw)],
  [
    'placement',
    struct([
      ['constraints', omit(list(str))],
      ['preferences', omit(raw)],
      ['max_replicas_per_node', omit(num)],
    ]),
  ],
  ['endpoint_mode', omit(str)],
]);

/** compose-go's HostsList: `host=ip` entries, sorted. */
const extraHosts: Enc = (v) => {
  const entries = Array.isArray(v)
    ? (v as unknown[]).map((e) => {
        const s = String(e);
        const eq = s.indexOf('=');
        const i = eq >= 0 ? eq : s.indexOf(':');
        return i < 0 ? `${s}=` : `${s.slice(0, i)}=${s.slice(i + 1)}`;
      })
    : Object.entries(v as Obj).flatMap(([h, ips]) =>
        (Array.isArray(ips) ? ips : [ips ?? '']).map((ip) => `${h}=${String(ip)}`),
      );
  return raw([...entries].sort());
};

const stringList = omit(list(str));
const logging = struct([
  ['driver', omit(str)],
  ['options', omit(strMap)],
]);

/** types.ServiceConfig's JSON fields, in declaration order (compose-go v2.14). */
const ORDER: readonly (readonly [string, Enc])[] = [
  ['profiles', omit(list(str))],
  ['annotations', omit(strMap)],
  ['attach', ptr(raw)],
  ['build', omit(raw)],
  ['develop', ptr(raw)],
  ['blkio_config', ptr(raw)],
  ['cap_add', stringList],
  ['cap_drop', stringList],
  ['cgroup_parent', omit(str)],
  ['cgroup', omit(str)],
  ['cpu_count', omit(num)],
  ['cpu_percent', omit(num)],
  ['cpu_period', omit(num)],
  ['cpu_quota', omit(num)],
  ['cpu_rt_period', omit(num)],
  ['cpu_rt_runtime', omit(num)],
  ['cpus', omit(num)],
  ['cpuset', omit(str)],
  ['cpu_shares', omit(num)],
  ['command', (v) => (v === undefined || v === null ? 'null' : list(str)(v))],
  ['configs', omit(list(fileRef))],
  ['container_name', omit(str)],
  ['credential_spec', ptr(raw)],
  ['depends_on', omit(raw)],
  ['deploy', ptr(deploy)],
  ['device_cgroup_rules', stringList],
  ['devices', omit(raw)],
  ['dns', stringList],
  ['dns_opt', stringList],
  ['dns_search', stringList],
  ['dockerfile', omit(str)],
  ['domainname', omit(str)],
  ['entrypoint', (v) => (v === undefined || v === null ? 'null' : list(str)(v))],
  ['provider', ptr(raw)],
  ['environment', omit(map((x) => goString(String(x))))],
  ['expose', omit(list(str))],
  ['external_links', stringList],
  ['extra_hosts', omit(extraHosts)],
  ['group_add', stringList],
  ['gpus', omit(raw)],
  ['hostname', omit(str)],
  ['healthcheck', ptr(healthcheck)],
  ['image', omit(str)],
  ['init', ptr(raw)],
  ['ipc', omit(str)],
  ['isolation', omit(str)],
  ['labels', omit(strMap)],
  ['label_file', stringList],
  ['links', stringList],
  ['logging', ptr(logging)],
  ['log_driver', omit(str)],
  ['log_opt', omit(strMap)],
  ['mem_limit', omit(unitBytes)],
  ['mem_reservation', omit(unitBytes)],
  ['memswap_limit', omit(unitBytes)],
  ['mem_swappiness', omit(unitBytes)],
  ['mac_address', omit(str)],
  ['models', omit(raw)],
  ['net', omit(str)],
  ['network_mode', omit(str)],
  ['networks', omit(map((x) => serviceNetwork(x)))],
  ['oom_kill_disable', omit(raw)],
  ['oom_score_adj', omit(num)],
  ['pid', omit(str)],
  ['pids_limit', omit(num)],
  ['platform', omit(str)],
  ['ports', omit(list(port))],
  ['privileged', omit(raw)],
  ['pull_policy', omit(str)],
  ['read_only', omit(raw)],
  ['restart', omit(str)],
  ['runtime', omit(str)],
  ['scale', ptr(num)],
  ['secrets', omit(list(fileRef))],
  ['security_opt', stringList],
  ['shm_size', omit(unitBytes)],
  ['stdin_open', omit(raw)],
  ['stop_grace_period', ptr(duration)],
  ['stop_signal', omit(str)],
  ['storage_opt', omit(strMap)],
  ['sysctls', omit(strMap)],
  ['tmpfs', stringList],
  ['tty', omit(raw)],
  ['ulimits', omit(map(ulimit))],
  ['use_api_socket', omit(raw)],
  ['user', omit(str)],
  ['userns_mode', omit(str)],
  ['uts', omit(str)],
  ['volume_driver', omit(str)],
  ['volumes', omit(list(volume))],
  ['volumes_from', stringList],
  ['working_dir', omit(str)],
  ['pre_start', omit(raw)],
  ['post_start', omit(raw)],
  ['pre_stop', omit(raw)],
];

/** The JSON v2 hashes for a normalised service (build, pull_policy, scale, … cleared first). */
export function v2ServiceJson(svc: Obj): string {
  const o: Obj = { ...svc };
  for (const k of ['build', 'pull_policy', 'scale', 'depends_on', 'profiles', 'env_file']) delete o[k];
  if (isObj(o.deploy)) {
    const d = { ...o.deploy };
    delete d.replicas;
    o.deploy = d;
  }
  return struct(ORDER)(o)!;
}

/** The config hash: sha256 (hex) of v2ServiceJson, as `com.docker.compose.config-hash` holds it. */
export function serviceConfigHash(svc: Obj): string {
  return createHash('sha256').update(v2ServiceJson(svc)).digest('hex');
}
