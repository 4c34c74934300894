// docker flags Berth parses but cannot honour (Windows-only, swarm-free, or API fields berthd
// does not implement yet). They appear in --help like docker's, and using one fails with exit
// 125 and the reason, so a value is never silently dropped.
import { type Command, Option } from 'commander';
import { CliError, collect } from '../context.ts';

export interface UnsupportedFlag {
  /** commander flags, e.g. `--cpu-count <int>` */
  readonly flags: string;
  readonly description: string;
  /** Why Berth cannot honour it; printed after "berth: --x is not supported". */
  readonly reason: string;
  /** Values that are fine because they ask for what Berth does anyway (e.g. `--isolation default`). */
  readonly accept?: (value: string | boolean) => boolean;
  /** Repeatable list flag. */
  readonly list?: boolean;
}

function refuse(long: string | undefined, f: UnsupportedFlag): CliError {
  return new CliError(`berth: ${long} is not supported: ${f.reason}`, 125);
}

/**
 * A valued flag checked as it is parsed (docker validates flags before doing anything).
 * Boolean flags need the command's hook: use addUnsupported for those.
 */
export function unsupportedOption(f: UnsupportedFlag): Option {
  const opt = new Option(f.flags, f.description);
  if (!opt.required && !opt.optional) return opt;
  opt.argParser((value: string, previous: string[] | string | undefined) => {
    if (f.accept?.(value) !== true) throw refuse(opt.long, f);
    return f.list ? collect(value, Array.isArray(previous) ? previous : []) : value;
  });
  return opt;
}

export function addUnsupported(c: Command, flags: readonly UnsupportedFlag[]): Command {
  for (const f of flags) {
    const opt = unsupportedOption(f);
    c.addOption(opt);
    if (opt.required || opt.optional) continue;
    const key = opt.attributeName();
    c.hook('preAction', (_self, action) => {
      const v = action.opts()[key] as string | boolean | undefined;
      if (v !== undefined && f.accept?.(v) !== true) throw refuse(opt.long, f);
    });
  }
  return c;
}

const hostArch = process.arch === 'x64' ? 'amd64' : process.arch;

/** `--platform` on commands where Berth keeps one platform per image: the host's is accepted. */
export function platformFlag(what: string): UnsupportedFlag {
  return {
    flags: '--platform <string>',
    description: `${what} (the host platform linux/${hostArch} only)`,
    reason: `Berth keeps one platform per image; only linux/${hostArch} can be chosen here`,
    accept: (v) =>
      typeof v === 'string' && [`linux/${hostArch}`, 'linux', hostArch].includes(v.toLowerCase()),
  };
}

/** Windows-only resource flags of run, create and build. */
export const WINDOWS_ONLY = (flags: string, description: string): UnsupportedFlag => ({
  flags,
  description: `${description} (Windows only)`,
  reason: 'it applies to Windows containers only',
});

/** docker's `--isolation`: on Linux only "default" exists. */
export const ISOLATION: UnsupportedFlag = {
  flags: '--isolation <string>',
  description: 'Container isolation technology',
  reason: 'Linux containers have only the "default" isolation',
  accept: (v) => v === '' || v === 'default',
};

/** docker's `--disable-content-trust` (on by default): asking for trust (`=false`) cannot be met. */
export const CONTENT_TRUST: UnsupportedFlag = {
  flags: '--disable-content-trust',
  description: 'Skip image verification (default true)',
  reason: 'Berth has no Docker Content Trust (Notary); images are verified by digest only',
  accept: (v) => v === true,
};
