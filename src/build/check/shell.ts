// A small POSIX-shell reader for RUN lines: enough to see simple commands, their words and
// redirections (for the apt-get and deleted-files rules). It does not run or expand anything:
// words holding `$` or backquotes are marked dynamic and the rules leave them alone.

export interface Word {
  /** The word with quotes and escapes removed. */
  readonly text: string;
  /** Contains an unquoted or double-quoted `$` or a backquote: its value is unknown here. */
  readonly dynamic: boolean;
}

export interface Redirect {
  /** `>`, `>>`, `<`, `<<`, `&>`, ... without the file descriptor number. */
  readonly op: string;
  readonly target: Word;
}

export interface SimpleCommand {
  readonly words: readonly Word[];
  readonly redirects: readonly Redirect[];
  /** The command whose output is piped into this one (`a | b`: b's pipedFrom is a). */
  readonly pipedFrom?: SimpleCommand;
}

const OPERATOR_CHARS = new Set([';', '&', '|', '\n', '(', ')']);

/** Splits a shell script into simple commands, in order. Never throws: odd input gives odd words. */
export function simpleCommands(script: string): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  let words: Word[] = [];
  let redirects: Redirect[] = [];
  let pendingRedirect: string | undefined;
  let pipedFrom: SimpleCommand | undefined;
  let cur = '';
  let inWord = false;
  let dynamic = false;

  const endWord = () => {
    if (!inWord) return;
    const w = { text: cur, dynamic };
    if (pendingRedirect !== undefined) {
      redirects.push({ op: pendingRedirect, target: w });
      pendingRedirect = undefined;
    } else words.push(w);
    cur = '';
    inWord = false;
    dynamic = false;
  };
  const endCommand = (pipe: boolean) => {
    endWord();
    let cmd: SimpleCommand | undefined;
    if (words.length > 0 || redirects.length > 0) {
      cmd = { words, redirects, ...(pipedFrom ? { pipedFrom } : {}) };
      out.push(cmd);
    }
    words = [];
    redirects = [];
    pendingRedirect = undefined;
    pipedFrom = pipe ? cmd : undefined;
  };

  let i = 0;
  const n = script.length;
  while (i < n) {
    const c = script[i]!;
    if (c === '\\') {
      // Line continuation joins; any other escaped character is literal.
      if (script[i + 1] === '\n') {
        i += 2;
        continue;
      }
      if (i + 1 < n) {
        cur += script[i + 1];
        inWord = true;
      }
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      const stop = end === -1 ? n : end;
      cur += script.slice(i + 1, stop);
      inWord = true;
      i = stop + 1;
      continue;
    }
    if (c === '"') {
      inWord = true;
      i++;
      while (i < n && script[i] !== '"') {
        if (script[i] === '\\' && i + 1 < n && '"\\$`\n'.includes(script[i + 1]!)) {
          if (script[i + 1] !== '\n') cur += script[i + 1];
          i += 2;
          continue;
        }
        if (script[i] === '$' || script[i] === '`') dynamic = true;
        cur += script[i];
        i++;
      }
      i++;
      continue;
    }
    if (c === '#' && !inWord) {
      while (i < n && script[i] !== '\n') i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
      continue;
    }
    if (c === '>' || c === '<') {
      // A preceding all-digit word is the descriptor (`2>`), not a word of the command.
      if (inWord && /^\d+$/.test(cur) && !dynamic) {
        cur = '';
        inWord = false;
      } else endWord();
      let op = c;
      i++;
      while (i < n && (script[i] === '>' || script[i] === '<' || script[i] === '&' || script[i] === '|')) {
        op += script[i];
        i++;
      }
      // `2>&1`: a descriptor duplication, no file.
      if (/&$/.test(op) && /\d/.test(script[i] ?? '')) {
        while (i < n && /[\d-]/.test(script[i]!)) i++;
        continue;
      }
      pendingRedirect = op.replace(/&$/, '').replace(/\|$/, '');
      continue;
    }
    if (c === '&' && script[i + 1] === '>') {
      endWord();
      i += script[i + 2] === '>' ? 3 : 2;
      pendingRedirect = '>';
      continue;
    }
    if (OPERATOR_CHARS.has(c)) {
      const two = script.slice(i, i + 2);
      const pipe = c === '|' && two !== '||';
      endCommand(pipe);
      i += two === '&&' || two === '||' || two === ';;' ? 2 : 1;
      continue;
    }
    if (c === '$' || c === '`') dynamic = true;
    cur += c;
    inWord = true;
    i++;
  }
  endCommand(false);
  return out;
}

/**
 * The command's program and its arguments, past leading `VAR=value` assignments and wrappers
 * that run another command (`sudo`, `env`, `command`, `exec`, `time`, `nice`).
 */
export function program(cmd: SimpleCommand): { name: string; args: readonly Word[] } | undefined {
  const ws = cmd.words;
  let i = 0;
  for (;;) {
    const w = ws[i];
    if (!w) return undefined;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w.text)) {
      i++;
      continue;
    }
    const base = w.text.slice(w.text.lastIndexOf('/') + 1);
    if (['sudo', 'env', 'command', 'exec', 'time', 'nice', 'nohup'].includes(base)) {
      i++;
      // Options of the wrapper itself (`sudo -E`, `env -i`).
      while (ws[i]?.text.startsWith('-')) i++;
      continue;
    }
    return { name: base, args: ws.slice(i + 1) };
  }
}
