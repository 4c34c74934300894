// Berth's best-practice rules, beside Docker's: each catches a mistake that makes images bigger,
// builds fail or results change without the Dockerfile changing.
import path from 'node:path';
import { compileGlob, type Glob } from '../../base/patterns/index.ts';
import type { CommandLine, Instruction } from '../dockerfile/types.ts';
import { parseReference } from '../../oci/reference.ts';
import { expandWithDefaults, lineOf } from './ast.ts';
import { program, type SimpleCommand, simpleCommands, type Word } from './shell.ts';
import type { Report, Rule } from './types.ts';

const ARCHIVE_RE = /\.(?:tar|tgz|tbz2?|txz|tzst|tlz|gz|bz2|xz|zst|lz|lzma)$/i;
const REMOTE_RE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;

export const preferCopyOverAdd: Rule = {
  name: 'PreferCopyOverAdd',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      for (const i of stage.instructions) {
        if (i.kind !== 'ADD') continue;
        // ADD earns its keep for URLs, git, archives it unpacks, and its own flags.
        if (['checksum', 'keep-git-dir', 'unpack'].some((f) => i.flags.some((x) => x.name === f))) continue;
        const local = i.sources.every(
          (s) => !REMOTE_RE.test(s) && !s.includes('$') && !ARCHIVE_RE.test(s) && !s.endsWith('.git'),
        );
        if (!local || i.sources.length === 0) continue;
        const what = i.sources.length === 1 ? `'${i.sources[0]}'` : `${i.sources.length} local sources`;
        out.push({
          line: lineOf(i),
          message: `ADD of ${what} only copies local files: use COPY (ADD is for URLs, git repositories and local tar archives it unpacks)`,
        });
      }
    }
    return out;
  },
};

/** The scripts a RUN hands to a shell: the shell-form text, `sh -c` of the exec form, heredoc bodies. */
function scriptsOf(i: Extract<Instruction, { kind: 'RUN' }>): string[] {
  const c: CommandLine = i.command;
  const out: string[] = [];
  if (c.form === 'shell') out.push(c.text);
  else {
    const dashC = c.args.indexOf('-c');
    if (dashC !== -1 && c.args[dashC + 1] !== undefined) out.push(c.args[dashC + 1]!);
    else out.push(c.args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' '));
  }
  for (const h of i.heredocs) out.push(h.content);
  return out;
}

function commandsOf(i: Extract<Instruction, { kind: 'RUN' }>): SimpleCommand[] {
  return scriptsOf(i).flatMap((s) => simpleCommands(s));
}

function answersYes(args: readonly Word[]): boolean {
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!.text;
    if (
      a === '--yes' ||
      a === '--assume-yes' ||
      a === '--force-yes' ||
      /^--(?:assume-)?yes=(?:1|true|yes)$/i.test(a)
    ) {
      return true;
    }
    if (/^-[a-zA-Z]*y[a-zA-Z]*$/.test(a)) return true;
    const opt = a === '-o' ? args[k + 1]?.text : a.startsWith('-o') ? a.slice(2) : undefined;
    if (opt && /^APT::Get::Assume-Yes=(?:1|true|yes)$/i.test(opt)) return true;
  }
  return false;
}

export const aptGetInstallWithoutYes: Rule = {
  name: 'AptGetInstallWithoutYes',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      for (const i of stage.instructions) {
        if (i.kind !== 'RUN') continue;
        for (const cmd of commandsOf(i)) {
          const p = program(cmd);
          if (!p || (p.name !== 'apt-get' && p.name !== 'apt')) continue;
          const sub = p.args.find((a) => !a.text.startsWith('-') && !/^[A-Za-z:]+::/.test(a.text));
          if (sub?.text !== 'install') continue;
          if (answersYes(p.args)) continue;
          // `yes | apt-get install ...` answers the prompt too.
          const feeder = cmd.pipedFrom && program(cmd.pipedFrom);
          if (feeder?.name === 'yes') continue;
          out.push({
            line: lineOf(i),
            message: `${p.name} install without -y asks for confirmation, which a build cannot give, and fails: write ${p.name} install -y`,
          });
        }
      }
    }
    return out;
  },
};

/** A path some step put into the image. */
interface Created {
  readonly path: string;
  readonly line: number;
  /** How it got there, for the message (`COPY`, `wget`, ...). */
  readonly how: string;
  /** The step made everything below `path` too (a clone, apt lists), not just the path itself. */
  readonly contents: boolean;
}

/**
 * `p` against the working directory; `cwd` is '' while it is unknown (the base image's), and then
 * relative paths stay relative so they still compare with each other.
 */
function resolve(cwd: string, p: string): string {
  const joined = p.startsWith('/') || cwd === '' ? p : `${cwd}/${p}`;
  const n = path.posix.normalize(joined).replace(/\/+$/, '');
  return n === '' ? '/' : n;
}

const GLOB_RE = /[*?[]/;

/**
 * A shell glob from a Dockerfile's `rm` as a matcher. It goes through the linear-time glob
 * engine: a JavaScript RegExp backtracks polynomially on `rm /a*a*a*…b` and the check runs in the
 * daemon. The shell's `[!…]` negation is Go's `[^…]`; a malformed glob matches nothing (a lint
 * never fails a build).
 */
function shellGlob(glob: string): Glob | undefined {
  try {
    return compileGlob(glob.replaceAll('[!', '[^'));
  } catch {
    return undefined;
  }
}

/** Whether removing `target` (a path or glob) removes all of what `c` created, a part of it, or none. */
function removes(target: string, c: Created): 'all' | 'part' | undefined {
  const under = (a: string, b: string) => a === b || a.startsWith(b === '/' ? '/' : `${b}/`);
  if (!GLOB_RE.test(target)) {
    if (under(c.path, target)) return 'all';
    return c.contents && under(target, c.path) ? 'part' : undefined;
  }
  const re = shellGlob(target);
  for (let p = c.path; re && p !== '/' && p !== '.' && p !== ''; p = path.posix.dirname(p))
    if (re.test(p)) return 'all';
  // A glob below a tree c made (`rm -rf /var/lib/apt/lists/*`) removes what c put there.
  const dir = target.slice(0, target.search(GLOB_RE)).replace(/\/[^/]*$/, '') || '/';
  return c.contents && under(dir, c.path) ? 'part' : undefined;
}

function urlBase(u: string): string | undefined {
  const m = /^[a-z]+:\/\/[^/]+\/(?:.*\/)?([^/?#]+)(?:[?#].*)?$/i.exec(u);
  return m?.[1];
}

/** Paths one simple command writes (the common download / create / clone / copy forms). */
function writtenBy(
  p: { name: string; args: readonly Word[] },
  cmd: SimpleCommand,
): { path: string; contents: boolean; how?: string }[] {
  const out: { path: string; contents: boolean; how?: string }[] = [];
  const lit = p.args.filter((a) => !a.dynamic).map((a) => a.text);
  const operands = lit.filter((a) => !a.startsWith('-'));
  const optArg = (...names: string[]) => {
    for (let k = 0; k < lit.length; k++) {
      const a = lit[k]!;
      for (const n of names) {
        if (a === n && lit[k + 1] !== undefined) return lit[k + 1];
        if (n.startsWith('--') && a.startsWith(`${n}=`)) return a.slice(n.length + 1);
        if (!n.startsWith('--') && a.startsWith(n) && a.length > n.length) return a.slice(n.length);
      }
    }
    return undefined;
  };
  for (const r of cmd.redirects) {
    if ((r.op === '>' || r.op === '>>') && !r.target.dynamic && r.target.text !== '/dev/null') {
      out.push({ path: r.target.text, contents: false, how: `${p.name} ${r.op}` });
    }
  }
  switch (p.name) {
    case 'wget': {
      const o = optArg('-O', '--output-document');
      const url = operands.find((a) => /^[a-z]+:\/\//i.test(a));
      if (o !== undefined && o !== '-') out.push({ path: o, contents: false });
      else if (o === undefined && url && urlBase(url)) {
        const dir = optArg('-P', '--directory-prefix') ?? '.';
        out.push({ path: `${dir}/${urlBase(url)}`, contents: false });
      }
      break;
    }
    case 'curl': {
      const o = optArg('-o', '--output');
      const url = operands.find((a) => /^[a-z]+:\/\//i.test(a));
      if (o !== undefined && o !== '-') out.push({ path: o, contents: false });
      else if ((lit.includes('-O') || lit.includes('--remote-name')) && url && urlBase(url)) {
        out.push({ path: urlBase(url)!, contents: false });
      }
      break;
    }
    case 'touch':
    case 'mkdir':
      for (const a of operands) out.push({ path: a, contents: false });
      break;
    case 'git': {
      const k = lit.indexOf('clone');
      if (k === -1) break;
      const rest = lit.slice(k + 1).filter((a) => !a.startsWith('-'));
      const url = rest[0];
      const dir =
        rest[1] ??
        (url
          ? url
              .replace(/\/+$/, '')
              .replace(/\.git$/, '')
              .split(/[/:]/)
              .at(-1)
          : undefined);
      if (dir) out.push({ path: dir, contents: true });
      break;
    }
    case 'apt-get':
    case 'apt':
      if (operands[0] === 'update') out.push({ path: '/var/lib/apt/lists', contents: true });
      break;
    case 'cp':
      if (operands.length >= 2 && !operands.at(-1)!.endsWith('/')) {
        out.push({
          path: operands.at(-1)!,
          contents: operands.length === 2 && lit.some((a) => /^-[a-zA-Z]*[rRa]/.test(a)),
        });
      }
      break;
  }
  return out;
}

export const deletedInLaterLayer: Rule = {
  name: 'DeletedInLaterLayer',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      let workdir = '';
      let created: Created[] = [];
      for (const i of stage.instructions) {
        if (i.kind === 'WORKDIR') {
          if (!i.path.includes('$')) workdir = resolve(workdir, i.path);
          continue;
        }
        if (i.kind === 'COPY' || i.kind === 'ADD') {
          if (i.dest.includes('$')) continue;
          const destDir = i.dest.endsWith('/') || i.sources.length > 1 || i.dest === '.';
          for (const s of i.sources) {
            if (s.includes('$') || GLOB_RE.test(s)) continue;
            const base = s.startsWith('<<') ? undefined : path.posix.basename(s.replace(/\/+$/, ''));
            const p = destDir ? (base && base !== '.' ? `${i.dest}/${base}` : undefined) : i.dest;
            if (p !== undefined)
              created.push({ path: resolve(workdir, p), line: lineOf(i), how: i.kind, contents: false });
          }
          continue;
        }
        if (i.kind !== 'RUN') continue;
        const made: Created[] = [];
        const reported = new Set<string>();
        let cwd = workdir;
        for (const cmd of commandsOf(i)) {
          const p = program(cmd);
          if (!p) continue;
          if (p.name === 'cd') {
            const to = p.args[0];
            if (to && !to.dynamic) cwd = resolve(cwd, to.text);
            continue;
          }
          if (p.name === 'rm') {
            for (const a of p.args) {
              if (a.dynamic || a.text.startsWith('-')) continue;
              const target = resolve(cwd, a.text);
              const gone: Created[] = [];
              for (const c of created) {
                const how = removes(target, c);
                if (how === undefined) continue;
                if (how === 'all') gone.push(c);
                const key = `${c.path}@${c.line}`;
                if (reported.has(key)) continue;
                reported.add(key);
                const fix =
                  c.how === 'COPY' || c.how === 'ADD'
                    ? 'do not copy it (narrow the COPY or add it to .dockerignore), or copy it in a build stage and COPY --from only what you keep'
                    : `create and remove it in the same RUN, joining the commands with &&`;
                const what = how === 'all' ? `'${c.path}'` : `'${target}' in '${c.path}'`;
                out.push({
                  line: lineOf(i),
                  message: `${what} made at line ${c.line} (${c.how}) is removed here, but the layer of line ${c.line} still holds it, so the image does not shrink: ${fix}`,
                });
              }
              created = created.filter((c) => !gone.includes(c));
            }
            continue;
          }
          for (const w of writtenBy(p, cmd)) {
            if (w.path.includes('$')) continue;
            made.push({
              path: resolve(cwd, w.path),
              line: lineOf(i),
              how: w.how ?? p.name,
              contents: w.contents,
            });
          }
        }
        created.push(...made);
      }
    }
    return out;
  },
};

/** A context this big without a .dockerignore is worth a warning (every build sends all of it). */
export const LARGE_CONTEXT_BYTES = 100 * 1024 * 1024;

export const largeContextWithoutDockerignore: Rule = {
  name: 'LargeContextWithoutDockerignore',
  run({ opts }) {
    const size = opts.contextSize;
    if (size === undefined || opts.hasDockerignore !== false || size < LARGE_CONTEXT_BYTES) return [];
    const mb = Math.round(size / (1024 * 1024));
    return [
      {
        line: 0,
        message: `The build context holds at least ${mb} MiB and has no .dockerignore, so every build sends all of it: add a .dockerignore excluding what the image does not need (.git, build output, dependencies)`,
      },
    ];
  },
};

export const latestBaseTag: Rule = {
  name: 'LatestBaseTag',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      const written = stage.from.image;
      const image = expandWithDefaults(df, written);
      if (image === undefined || image === '' || image.toLowerCase() === 'scratch') continue;
      if (df.stages.some((s) => s.index < stage.index && s.name === image.toLowerCase())) continue;
      let ref: ReturnType<typeof parseReference>;
      try {
        ref = parseReference(image);
      } catch {
        continue; // InvalidDefaultArgInFrom or the build itself reports bad names.
      }
      if (ref.digest !== undefined || (ref.tag !== undefined && ref.tag !== 'latest')) continue;
      const name = ref.tag === undefined ? image : image.slice(0, -':latest'.length);
      const what =
        ref.tag === undefined
          ? `'${image}' has no tag, so it means :latest`
          : `'${image}' uses the :latest tag`;
      out.push({
        line: lineOf(stage.from),
        message: `Base image ${what}, which moves: builds change without the Dockerfile changing; pin a version (${name}:<version>) or a digest (${name}@sha256:...)`,
      });
    }
    return out;
  },
};

export function berthRules(): Rule[] {
  return [
    preferCopyOverAdd,
    aptGetInstallWithoutYes,
    deletedInLaterLayer,
    largeContextWithoutDockerignore,
    latestBaseTag,
  ];
}
