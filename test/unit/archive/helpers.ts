// Shared helpers for the archive tests: tarballs built in memory with tar-stream, temp dirs
// that clean themselves up, and tree snapshots for comparisons.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import tar from 'tar-stream';

export const isRoot = process.getuid?.() === 0;

export interface TarSpec {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  readonly content?: string | Buffer;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: Date;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly pax?: Record<string, string>;
}

/** A tar archive of the given entries, in order (tar-stream adds PAX headers for long names). */
export async function buildTar(entries: readonly TarSpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header: Parameters<tar.Pack['entry']>[0] = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_600_000_000_000),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor } : {}),
      ...(e.devminor !== undefined ? { devminor: e.devminor } : {}),
      ...(e.pax !== undefined ? { pax: e.pax } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry(header, e.content ?? '', cb);
      else pack.entry(header, cb); // header-only entries complete on their own
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A byte stream of `data` in chunks of `chunkSize` (to exercise chunk boundaries). */
export function streamOf(data: Buffer, chunkSize = 64 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) parts.push(data.subarray(i, i + chunkSize));
  return Readable.from(parts, { objectMode: false });
}

/** A fresh directory under os.tmpdir(), removed after the test. */
export function tempDir(t: TestContext, prefix = 'berth-archive-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not root and a layer made read-only directories: open them up, then retry.
      makeWritable(Buffer.from(dir));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  return dir;
}

function makeWritable(p: Buffer): void {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return;
  fs.chmodSync(p, 0o700);
  for (const n of fs.readdirSync(p, { encoding: 'buffer' }))
    makeWritable(Buffer.concat([p, Buffer.from('/'), n]));
}

/** A sandbox with `dest` (empty, for the layer) and `outside` (must stay untouched). */
export function sandbox(t: TestContext): { root: string; dest: string; outside: string } {
  const root = tempDir(t);
  const dest = path.join(root, 'dest');
  const outside = path.join(root, 'outside');
  fs.mkdirSync(dest);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret'), 'do not touch');
  return { root, dest, outside };
}

export interface NodeInfo {
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly size?: number;
  readonly sha256?: string;
  readonly target?: string;
  readonly rdev?: number;
  readonly nlink?: number;
}

/**
 * Every path under `dir` with its type and metadata; symlinks not followed. Keys are relative
 * paths as binary (latin-1) strings so that names which are not UTF-8 are kept exactly.
 */
export function snapshot(dir: string, opts: { mtimes?: boolean } = {}): Record<string, NodeInfo> {
  const out: Record<string, NodeInfo> = {};
  const root = Buffer.from(dir);
  const walk = (rel: Buffer): void => {
    const abs = rel.length === 0 ? root : Buffer.concat([root, Buffer.from('/'), rel]);
    const names = fs.readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare);
    for (const name of names) {
      const r = rel.length === 0 ? name : Buffer.concat([rel, Buffer.from('/'), name]);
      const p = Buffer.concat([root, Buffer.from('/'), r]);
      const st = fs.lstatSync(p);
      const type = st.isDirectory()
        ? 'dir'
        : st.isFile()
          ? 'file'
          : st.isSymbolicLink()
            ? 'symlink'
            : st.isCharacterDevice()
              ? 'char'
              : st.isBlockDevice()
                ? 'block'
                : st.isFIFO()
                  ? 'fifo'
                  : 'other';
      const info: NodeInfo = {
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: opts.mtimes === false ? 0 : Math.floor(st.mtimeMs / 1000),
        ...(type === 'file'
          ? {
              size: st.size,
              sha256: createHash('sha256').update(fs.readFileSync(p)).digest('hex'),
              nlink: st.nlink,
            }
          : {}),
        ...(type === 'symlink'
          ? { target: fs.readlinkSync(p, { encoding: 'buffer' }).toString('latin1') }
          : {}),
        ...(type === 'char' || type === 'block' ? { rdev: st.rdev } : {}),
      };
      // symlink mode bits are meaningless (always 0777 on Linux)
      out[r.toString('latin1')] = type === 'symlink' ? { ...info, mode: 0 } : info;
      if (type === 'dir') walk(r);
    }
  };
  walk(Buffer.alloc(0));
  return out;
}

/** Runs a command; true if it exists and exits 0. */
export function have(cmd: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The value of one xattr via getfattr, or undefined if absent. */
export function getXattr(p: string, name: string): Buffer | undefined {
  try {
    const out = execFileSync('getfattr', ['-h', '--absolute-names', '-n', name, '-e', 'hex', '--', p], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    const m = /=0x([0-9a-f]*)/.exec(out);
    return m ? Buffer.from(m[1]!, 'hex') : undefined;
  } catch {
    return undefined;
  }
}
