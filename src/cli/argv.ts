// The docker CLI's boolean flags take an inline value (`--rm=false`, `--sig-proxy=false`,
// `-d=true`); commander's booleans take none. Before parsing, such tokens are rewritten for
// the command they belong to: `=true` → the bare flag, `=false` → its `--no-` form where one
// exists (`--no-sig-proxy`), else dropped (false is a boolean's default). Container arguments after the image
// (`run IMAGE cmd --x=false`) are left alone.
import { type Command, InvalidArgumentError, type Option } from 'commander';

function findOption(cmds: readonly Command[], token: string): Option | undefined {
  for (const c of cmds) {
    const o = c.options.find((x) => x.long === token || x.short === token);
    if (o) return o;
  }
  return undefined;
}

export function normaliseBoolFlags(program: Command, argv: readonly string[]): string[] {
  const out: string[] = [];
  let chain: Command[] = [program];
  let positional = false;
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    const cmd = chain[chain.length - 1]!;
    if (positional || tok === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^(--?[a-zA-Z0-9][a-zA-Z0-9-]*)=(true|false)$/i.exec(tok);
    const opt = m ? findOption(chain, m[1]!) : undefined;
    if (m && opt && !opt.required && !opt.optional) {
      if (m[2]!.toLowerCase() === 'true') out.push(m[1]!);
      else if (!opt.negate) {
        const neg = findOption(chain, `--no-${opt.long!.slice(2)}`)?.long;
        if (neg) out.push(neg);
      }
      continue;
    }
    out.push(tok);
    if (tok.startsWith('-') && tok !== '-') {
      const o = findOption(chain, tok);
      if (o && (o.required || o.optional) && !tok.includes('=') && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === tok || c.aliases().includes(tok));
    if (sub) chain = [...chain, sub];
    // Options after the first operand belong to the container's command (run, create, exec).
    else if ((cmd as unknown as { _passThroughOptions?: boolean })._passThroughOptions) positional = true;
  }
  return out;
}

/**
 * Integer flags (`<int>`, `<uint>`, `<uint16>`) are checked as they are parsed, with the Go
 * parser's message docker prints (`invalid argument "abc" for "-t, --timeout" flag:
 * strconv.ParseInt: parsing "abc": invalid syntax`); the value stays the string the commands read.
 */
export function checkIntegerFlags(cmd: Command): void {
  for (const o of cmd.options) {
    const kind = /<(int|uint|uint16)>/.exec(o.flags)?.[1];
    if (!kind || o.parseArg) continue;
    const label = o.short ? `${o.short}, ${o.long}` : (o.long ?? '');
    const fn = kind === 'int' ? 'ParseInt' : 'ParseUint';
    o.argParser((v: string) => {
      const okSyntax = kind === 'int' ? /^[-+]?\d+$/.test(v) : /^\+?\d+$/.test(v);
      if (!okSyntax)
        throw new InvalidArgumentError(
          `invalid argument "${v}" for "${label}" flag: strconv.${fn}: parsing "${v}": invalid syntax`,
        );
      if (kind === 'uint16' && Number(v) > 65535)
        throw new InvalidArgumentError(
          `invalid argument "${v}" for "${label}" flag: strconv.ParseUint: parsing "${v}": value out of range`,
        );
      return v;
    });
  }
}
