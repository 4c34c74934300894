// Stream and environment helpers shared by run and exec.
import { readFileSync } from 'node:fs';

export function envFromFiles(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const l = line.trim();
      if (!l || l.startsWith('#')) continue;
      out.push(l.includes('=') ? l : process.env[l] !== undefined ? `${l}=${process.env[l]}` : l);
    }
  }
  return out;
}

export function demuxTo(
  stream: NodeJS.ReadableStream,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    stream.on('data', (c: Buffer) => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      while (buf.length >= 8) {
        const size = buf.readUInt32BE(4);
        if (buf.length < 8 + size) break;
        const payload = buf.subarray(8, 8 + size);
        (buf[0] === 2 ? err : out).write(payload);
        buf = buf.subarray(8 + size);
      }
    });
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
}

/** The status `run` and `exec` end with (runCli returns it). */
export function setExitCode(code: number): void {
  process.exitCode = code;
}
