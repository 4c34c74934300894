// `docker import --change` / `docker commit --change`: a subset of Dockerfile instructions
// applied to an image's container config. Docker accepts CMD, ENTRYPOINT, ENV, EXPOSE,
// LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and WORKDIR here.
import { InvalidArgumentError } from '../errdefs/index.ts';
import type { ContainerConfig } from '../oci/image.ts';

const ALLOWED = [
  'CMD',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'LABEL',
  'ONBUILD',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
];

function bad(change: string, why: string): never {
  throw new InvalidArgumentError('INVALID_CHANGE', `invalid --change "${change}": ${why}`);
}

/** JSON array form if it parses as an array of strings, otherwise undefined. */
function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(rest) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* shell form */
  }
  return undefined;
}

function unquote(s: string): string {
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) {
    return s.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return s;
}

/** Splits `a=1 b="two words"` into pairs, honouring quotes. */
function keyValues(change: string, rest: string): [string, string][] {
  const words = rest.match(/(?:[^\s"']+|"(?:\\.|[^"\\])*"|'[^']*')+/g) ?? [];
  if (words.length > 0 && !words[0]!.includes('=')) {
    // legacy `ENV key value with spaces`
    const [k, ...v] = rest.split(/\s+/);
    if (v.length === 0) bad(change, `${k} needs a value`);
    return [[k!, v.join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) bad(change, `"${w}" is not of the form KEY=VALUE`);
    return [w.slice(0, eq), unquote(w.slice(eq + 1))];
  });
}

export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const cfg: ContainerConfig = structuredClone(base);
  for (const change of changes) {
    const trimmed = change.trim();
    if (trimmed === '') continue;
    const m = /^(\S+)\s*(.*)$/s.exec(trimmed)!;
    const instr = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (!ALLOWED.includes(instr))
      bad(change, `${m[1]} is not a valid change command; use one of ${ALLOWED.join(', ')}`);
    switch (instr) {
      case 'CMD':
      case 'ENTRYPOINT': {
        const v = jsonArray(rest) ?? ['/bin/sh', '-c', rest];
        if (instr === 'CMD') cfg.Cmd = v;
        else cfg.Entrypoint = v;
        break;
      }
      case 'ENV': {
        const env = [...(cfg.Env ?? [])];
        for (const [k, v] of keyValues(change, rest)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'LABEL':
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(keyValues(change, rest)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of rest.split(/\s+/).filter(Boolean)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p))
            bad(change, `invalid port "${p}"; use PORT[/PROTO]`);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        cfg.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(cfg.Volumes ?? {}) };
        for (const v of jsonArray(rest) ?? rest.split(/\s+/).filter(Boolean)) vols[v] = {};
        cfg.Volumes = vols;
        break;
      }
      case 'ONBUILD':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
        break;
      case 'STOPSIGNAL':
        cfg.StopSignal = rest;
        break;
      case 'USER':
        cfg.User = rest;
        break;
      case 'WORKDIR': {
        const cur = cfg.WorkingDir ?? '/';
        cfg.WorkingDir = rest.startsWith('/') ? rest : `${cur.replace(/\/$/, '')}/${rest}`;
        break;
      }
    }
  }
  return cfg;
}
