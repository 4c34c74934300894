// Build context decompression. The Engine API takes a context tar that is uncompressed or
// compressed with gzip, bzip2 or xz (and Docker also sniffs zstd). gzip and zstd are inflated
// in-process by archive/decompress; bzip2 and xz, which Node has no codec for (nor zstd before
// Node 22.15), go through the system's `bzip2 -dc` / `xz -dc` / `zstd -dc` (Debian's bzip2,
// xz-utils and zstd packages).

import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import zlib from 'node:zlib';
import { decompress, detectCompression } from '../../archive/index.ts';
import { InvalidArgumentError } from '../../errdefs/index.ts';

/** Bytes needed to tell every format apart (xz's magic is the longest). */
const SNIFF = 6;

/** Reads the first `n` bytes (fewer at the end) without consuming the rest. */
function peek(s: Readable, n: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = (): void => {
      s.off('readable', onReadable);
      s.off('end', onEnd);
      s.off('error', onError);
    };
    const onReadable = (): void => {
      for (;;) {
        const c = s.read() as Buffer | string | null;
        if (c === null) return;
        const b = typeof c === 'string' ? Buffer.from(c) : c;
        chunks.push(b);
        length += b.length;
        if (length >= n) {
          cleanup();
          resolve({ head: Buffer.concat(chunks, length), ended: false });
          return;
        }
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ head: Buffer.concat(chunks, length), ended: true });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    s.on('readable', onReadable);
    s.once('end', onEnd);
    s.once('error', onError);
  });
}

/**
 * Pipes `input` through `tool -dc`. The output ends only after the tool exited 0, so a corrupt
 * or truncated stream can never look like a shorter, valid archive.
 */
type Tool = 'bzip2' | 'xz' | 'zstd';

const PACKAGE: Record<Tool, string> = { bzip2: 'bzip2', xz: 'xz-utils', zstd: 'zstd' };

function throughTool(tool: Tool, input: Readable): Readable {
  const out = new PassThrough();
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let settled = false;
  const fail = (err: Error): void => {
    if (settled) return;
    settled = true;
    out.destroy(err);
    input.destroy();
    child.kill('SIGKILL');
  };
  child.on('error', (err: NodeJS.ErrnoException) => {
    const pkg = PACKAGE[tool];
    fail(
      err.code === 'ENOENT'
        ? new InvalidArgumentError(
            'BUILD_CONTEXT_UNSUPPORTED_COMPRESSION',
            `${tool}-compressed build contexts need the ${tool} tool (Debian package ${pkg}) on the daemon's host; send a plain or gzip-compressed tar`,
          )
        : err,
    );
  });
  child.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });
  // The tool exits early on corrupt input: the write error is expected, its exit code speaks.
  child.stdin.on('error', () => {});
  input.on('error', fail);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code) => {
    if (settled) return;
    if (code === 0) {
      settled = true;
      out.end();
      return;
    }
    fail(
      new InvalidArgumentError(
        'BUILD_CONTEXT_INVALID_COMPRESSION',
        `build context is not a valid ${tool} stream: ${stderr.trim() || `${tool} exited with ${code}`}`,
      ),
    );
  });
  // The consumer went away (or failed): stop the tool and release the input.
  out.once('close', () => {
    if (!settled) {
      settled = true;
      child.kill('SIGKILL');
      input.destroy();
    }
  });
  input.pipe(child.stdin);
  return out;
}

async function* prepend(head: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for await (const c of rest) yield typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
}

/** The uncompressed tar bytes of a build context in any format the Engine API accepts. */
export async function decompressContext(input: Readable): Promise<Readable> {
  const { head, ended } = await peek(input, SNIFF);
  const kind = detectCompression(head);
  // The sniffed bytes go in front of the rest. (Not unshift(): when the whole input fits in
  // the first read, 'end' may already be on its way and the bytes put back would be lost.)
  const source = ended ? Readable.from([head], { objectMode: false }) : Readable.from(prepend(head, input));
  if (kind === 'bzip2' || kind === 'xz') return throughTool(kind, source);
  if (
    kind === 'zstd' &&
    typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress !== 'function'
  ) {
    return throughTool('zstd', source);
  }
  return decompress(source);
}
