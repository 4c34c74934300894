// Extended attributes through the `attr` package's tools, since Node has no xattr API. Both
// directions are batched: one `setfattr --restore` per batch of paths, one recursive `getfattr`
// per packed tree. Paths are binary strings (see tar-format.ts).

import { spawn } from 'node:child_process';
import { InternalError } from '../errdefs/index.ts';
import { nameToBytes } from './tar-format.ts';

/** xattr names we pass on: a known namespace and a conservative character set. */
const XATTR_NAME = /^(user|trusted|security|system)\.[A-Za-z0-9._@:+-]+$/;

export function isValidXattrName(name: string): boolean {
  return XATTR_NAME.test(name) && name.length <= 255;
}

/**
 * Octal-escapes every byte outside a safe set, as the attr tools' `unquote()` expects
 * (`\ooo`); this keeps newlines, backslashes and non-UTF-8 bytes in names intact.
 */
export function quotePath(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const safe =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2f ||
      c === 0x2e ||
      c === 0x5f ||
      c === 0x2d;
    out += safe ? path[i] : `\\${c.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** Reverses the attr tools' quoting (`\ooo` → byte). */
export function unquotePath(quoted: string): string {
  return quoted.replace(/\\([0-7]{3})/g, (_m, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8) & 0xff),
  );
}

interface RunResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

const STDERR_LIMIT = 8192;

/** Runs a tool without a shell, feeding `input` on stdin. */
export function runTool(
  file: string,
  args: readonly string[],
  input: Buffer | undefined,
  signal?: AbortSignal,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
      ...(signal ? { signal } : {}),
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => {
      if (err.length < STDERR_LIMIT) err += b.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(
          new InternalError('ARCHIVE_TOOL_MISSING', `${file} not found: install the "attr" package`, {
            cause: e,
          }),
        );
      } else reject(e);
    });
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err.trim() }));
    if (input !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE if the tool dies early; its exit code reports it
      child.stdin.end(input);
    }
  });
}

/** path (binary string, absolute) → xattr name → value */
export type XattrBatch = Map<string, Map<string, Buffer>>;

/**
 * Applies a batch with `setfattr -h --restore=-` (`-h`: never dereference the final symlink).
 * Parent components of every path must already be known real directories.
 */
export async function applyXattrs(batch: XattrBatch, signal?: AbortSignal): Promise<void> {
  if (batch.size === 0) return;
  const parts: Buffer[] = [];
  for (const [path, attrs] of batch) {
    if (attrs.size === 0) continue;
    let text = `# file: ${quotePath(path)}\n`;
    for (const [name, value] of attrs) {
      // An empty value is written as `name=""` (the base64 form of "" would be "0s").
      text += value.length === 0 ? `${name}=""\n` : `${name}=0s${value.toString('base64')}\n`;
    }
    parts.push(Buffer.from(`${text}\n`, 'latin1'));
  }
  if (parts.length === 0) return;
  const r = await runTool('setfattr', ['-h', '--restore=-'], Buffer.concat(parts), signal);
  if (r.code !== 0) {
    throw new InternalError(
      'LAYER_XATTR_FAILED',
      `setting extended attributes failed: ${r.stderr || `exit ${r.code}`}`,
    );
  }
}

/**
 * Reads the xattrs matching `pattern` (a getfattr regex) of every file under `root`, without
 * following symlinks. Returns paths relative to `root` ('' for root itself), binary strings.
 */
export async function readXattrsRecursive(
  root: string,
  pattern: string,
  signal?: AbortSignal,
): Promise<XattrBatch> {
  const r = await runTool(
    'getfattr',
    ['-R', '-P', '-h', '-d', '-m', pattern, '-e', 'base64', '--absolute-names', '--', root],
    undefined,
    signal,
  );
  // getfattr exits non-zero when some file had no readable attrs or vanished; it still prints
  // everything it could read, and a tree we pack is not supposed to change underneath us.
  // A file that vanished mid-walk (a running container's upper dir) is not a failure either.
  const problems = String(r.stderr)
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.endsWith(': No such file or directory'));
  if (r.code !== 0 && r.stdout.length === 0 && problems.length > 0) {
    throw new InternalError(
      'ARCHIVE_XATTR_READ_FAILED',
      `reading extended attributes failed: ${problems.join('\n')}`,
    );
  }
  const rootBin = Buffer.from(root, 'utf8').toString('latin1');
  const out: XattrBatch = new Map();
  let current: Map<string, Buffer> | undefined;
  for (const line of r.stdout.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      const abs = unquotePath(line.slice(8));
      let rel: string | undefined;
      if (abs === rootBin) rel = '';
      else if (abs.startsWith(`${rootBin}/`)) rel = abs.slice(rootBin.length + 1);
      current = undefined;
      if (rel !== undefined) {
        current = new Map();
        out.set(rel, current);
      }
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq <= 0) continue;
    const name = line.slice(0, eq);
    const raw = line.slice(eq + 1);
    let value: Buffer;
    if (raw.startsWith('0s')) value = Buffer.from(raw.slice(2), 'base64');
    else if (raw.startsWith('0x')) value = Buffer.from(raw.slice(2), 'hex');
    else if (raw.startsWith('"') && raw.endsWith('"')) value = nameToBytes(unquotePath(raw.slice(1, -1)));
    else value = nameToBytes(raw);
    current.set(unquotePath(name), value);
  }
  return out;
}
