// The instructions that only change the image config (CMD, ENV, LABEL, EXPOSE, ...): pure
// functions from (instruction, config, variable lookup) to the new config and its history text.
import path from 'node:path';
import { parseGoDuration } from '../base/duration.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';
import type { ContainerConfig } from '../oci/image.ts';
import { expandWord, expandWords, type Lookup } from './dockerfile/expand.ts';
import type { CommandLine, Flag, Instruction } from './dockerfile/types.ts';
import { setOwn } from '../base/own.ts';
import { goList, goQuoteList, healthcheckText, nopText } from './history-text.ts';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export interface MetadataContext {
  readonly lookup: Lookup;
  readonly escape: '\\' | '`';
  /** Whether CMD was set in this stage (ENTRYPOINT resets an inherited CMD only). */
  readonly cmdSetInStage: boolean;
}

export interface MetadataResult {
  readonly config: ContainerConfig;
  readonly createdBy: string;
  readonly author?: string;
}

function bad(instr: Instruction, why: string): never {
  throw new InvalidArgumentError(
    'DOCKERFILE_INVALID',
    `Dockerfile:${instr.range.start.line}: ${instr.kind}: ${why}`,
  );
}

/** The argv of a shell- or exec-form command (shell form runs through SHELL). */
export function commandArgs(cmd: CommandLine, shell: readonly string[] | undefined): string[] {
  return cmd.form === 'exec' ? [...cmd.args] : [...(shell ?? DEFAULT_SHELL), cmd.text];
}

function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = env.filter((e) => e.split('=')[0] !== key);
  const i = env.findIndex((e) => e.split('=')[0] === key);
  const entry = `${key}=${value}`;
  if (i === -1) return [...out, entry];
  const copy = [...env];
  copy[i] = entry;
  return copy;
}

const PORT = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i;

/** `80`, `80/udp`, `8000-8002` → Docker's `80/tcp` keys. */
export function exposedPorts(instr: Instruction, words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = PORT.exec(w);
    if (!m) bad(instr, `invalid port "${w}": use PORT[/tcp|udp|sctp] or a range START-END`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    const proto = (m[3] ?? 'tcp').toLowerCase();
    if (lo < 1 || hi > 65535 || hi < lo) bad(instr, `invalid port range "${w}": ports are 1-65535`);
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

function flagValue(flags: readonly Flag[], name: string): string | undefined {
  return flags.find((f) => f.name === name)?.value;
}

function durationFlag(instr: Instruction, name: string, ctx: MetadataContext): number | undefined {
  const raw = flagValue(instr.flags, name);
  if (raw === undefined) return undefined;
  const v = expandWord(raw, ctx.lookup, ctx.escape);
  const ns = parseGoDuration(v);
  if (ns === undefined) bad(instr, `invalid --${name}=${v}: use a duration like 30s or 1m30s`);
  return ns;
}

/** Applies a metadata instruction; undefined for instructions that are not metadata-only. */
export function applyMetadata(
  instr: Instruction,
  cfg: ContainerConfig,
  ctx: MetadataContext,
): MetadataResult | undefined {
  const r = applyConfig(instr, cfg, ctx);
  // History in Docker's legacy wording, behind the SHELL in effect after the step.
  return r && { ...r, createdBy: nopText(r.config.Shell, r.createdBy) };
}

function applyConfig(
  instr: Instruction,
  cfg: ContainerConfig,
  ctx: MetadataContext,
): MetadataResult | undefined {
  const ex = (w: string) => expandWord(w, ctx.lookup, ctx.escape);
  switch (instr.kind) {
    case 'CMD': {
      const Cmd = commandArgs(instr.command, cfg.Shell);
      return { config: { ...cfg, Cmd }, createdBy: `CMD ${goQuoteList(Cmd)}` };
    }
    case 'ENTRYPOINT': {
      const Entrypoint = commandArgs(instr.command, cfg.Shell);
      // An ENTRYPOINT resets a CMD inherited from the base image (Docker's rule).
      const Cmd = ctx.cmdSetInStage ? (cfg.Cmd ?? null) : null;
      return {
        config: { ...cfg, Entrypoint, Cmd },
        createdBy: `ENTRYPOINT ${goQuoteList(Entrypoint)}`,
      };
    }
    case 'SHELL':
      if (instr.shell.length === 0) bad(instr, 'SHELL needs at least one argument, e.g. ["/bin/bash", "-c"]');
      return {
        config: { ...cfg, Shell: [...instr.shell] },
        createdBy: `SHELL ${goList(instr.shell)}`,
      };
    case 'ENV': {
      let env = cfg.Env ?? [];
      const shown: string[] = [];
      // Every pair is expanded against the environment before the instruction (Docker's
      // `ENV abc=bye def=$abc` gives def the old abc).
      const pairs = instr.pairs.map((p) => [ex(p.key), ex(p.value)] as const);
      for (const [k, v] of pairs) {
        if (k === '') bad(instr, 'an ENV name cannot be empty');
        env = setEnv(env, k, v);
        shown.push(`${k}=${v}`);
      }
      return { config: { ...cfg, Env: env }, createdBy: `ENV ${shown.join(' ')}` };
    }
    case 'LABEL': {
      const Labels = { ...(cfg.Labels ?? {}) };
      const shown: string[] = [];
      for (const p of instr.pairs) {
        const k = ex(p.key);
        const v = ex(p.value);
        if (k === '') bad(instr, 'a LABEL key cannot be empty');
        setOwn(Labels, k, v);
        shown.push(`${k}=${v}`);
      }
      return { config: { ...cfg, Labels }, createdBy: `LABEL ${shown.join(' ')}` };
    }
    case 'MAINTAINER':
      return { config: cfg, createdBy: `MAINTAINER ${instr.name}`, author: instr.name };
    case 'EXPOSE': {
      const ports = exposedPorts(
        instr,
        instr.ports.flatMap((p) => expandWords(p, ctx.lookup, ctx.escape)),
      );
      const ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of ports) ExposedPorts[p] = {};
      return {
        config: { ...cfg, ExposedPorts },
        createdBy: `EXPOSE ${[...new Set(ports)].sort().join(' ')}`,
      };
    }
    case 'VOLUME': {
      const Volumes = { ...(cfg.Volumes ?? {}) };
      const paths = instr.paths.map(ex).filter((p) => p !== '');
      if (paths.length === 0) bad(instr, 'VOLUME needs at least one path');
      for (const p of paths) Volumes[p] = {};
      return { config: { ...cfg, Volumes }, createdBy: `VOLUME ${goList(paths)}` };
    }
    case 'USER': {
      const User = ex(instr.user);
      if (User === '') bad(instr, 'USER needs a user name or UID');
      return { config: { ...cfg, User }, createdBy: `USER ${User}` };
    }
    case 'ONBUILD':
      return {
        config: { ...cfg, OnBuild: [...(cfg.OnBuild ?? []), instr.trigger] },
        createdBy: `ONBUILD ${instr.trigger}`,
      };
    case 'STOPSIGNAL': {
      const StopSignal = ex(instr.signal);
      if (!/^(SIG)?[A-Z0-9+-]+$/i.test(StopSignal) && !/^\d+$/.test(StopSignal))
        bad(instr, `invalid signal "${StopSignal}": use a name like SIGTERM or a number`);
      return { config: { ...cfg, StopSignal }, createdBy: `STOPSIGNAL ${StopSignal}` };
    }
    case 'HEALTHCHECK': {
      if (!instr.command) {
        const none = { Test: ['NONE'] };
        return { config: { ...cfg, Healthcheck: none }, createdBy: healthcheckText(none) };
      }
      const Test =
        instr.command.form === 'exec' ? ['CMD', ...instr.command.args] : ['CMD-SHELL', instr.command.text];
      const retriesRaw = flagValue(instr.flags, 'retries');
      const Retries = retriesRaw === undefined ? undefined : Number(ex(retriesRaw));
      if (Retries !== undefined && (!Number.isInteger(Retries) || Retries < 0))
        bad(instr, `invalid --retries=${retriesRaw}: use a whole number`);
      const hc: Record<string, unknown> = { Test };
      const fields: [string, string][] = [
        ['interval', 'Interval'],
        ['timeout', 'Timeout'],
        ['start-period', 'StartPeriod'],
        ['start-interval', 'StartInterval'],
      ];
      for (const [flag, key] of fields) {
        const v = durationFlag(instr, flag, ctx);
        if (v !== undefined) hc[key] = v;
      }
      if (Retries !== undefined) hc.Retries = Retries;
      return { config: { ...cfg, Healthcheck: hc }, createdBy: healthcheckText(hc as { Test: string[] }) };
    }
    default:
      return undefined;
  }
}

/** WORKDIR's new path: relative paths build on the previous WORKDIR. */
export function workdirPath(
  instr: Extract<Instruction, { kind: 'WORKDIR' }>,
  cfg: ContainerConfig,
  ctx: MetadataContext,
): string {
  const p = expandWord(instr.path, ctx.lookup, ctx.escape);
  if (p === '') bad(instr, 'WORKDIR needs a path');
  return path.posix.resolve(cfg.WorkingDir || '/', p);
}
