// TEMPORARY (replaced by the context helper's version): packs the context with tar.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';

export async function packBuildContext(
  contextDir: string,
  dockerfile: string,
  _stdin: NodeJS.ReadableStream,
): Promise<{ stream: Readable; dockerfileInContext: string }> {
  const child = spawn('tar', ['-c', '-C', contextDir, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rel = path.isAbsolute(dockerfile) ? path.relative(contextDir, dockerfile) : dockerfile;
  return { stream: child.stdout, dockerfileInContext: rel };
}

export async function contextFromStdin(
  stdin: NodeJS.ReadableStream,
): Promise<{ stream: Readable; dockerfileInContext?: string }> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  const out = new PassThrough();
  if (buf.length >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar') {
    out.end(buf);
    return { stream: out };
  }
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile', mode: 0o644 }, buf);
  pack.finalize();
  return { stream: pack as unknown as Readable, dockerfileInContext: 'Dockerfile' };
}
