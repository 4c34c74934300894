// COPY/ADD sources before any is read: which are heredocs (inline files), which ADD URLs and
// which context or stage patterns; and the download of ADD's URLs (their bytes are part of the
// step's cache key, so they are fetched before the cache is asked).
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Lookup } from '../dockerfile/expand.ts';
import type { Instruction } from '../dockerfile/types.ts';
import { bad, expandHeredoc } from '../step-helpers.ts';
import type { CopyItem } from './copy.ts';

type CopyInstruction = Extract<Instruction, { kind: 'COPY' | 'ADD' }>;

export interface CopySources {
  /** Heredoc sources: a file of that name with that content. */
  readonly inline: { name: string; content: string }[];
  /** ADD's http(s) sources. */
  readonly urls: string[];
  /** Paths or patterns in the context (or the `--from` stage or image). */
  readonly patterns: string[];
}

/** Sorts the instruction's sources (`ex` expands a word with the step's variables). */
export function classifySources(
  instr: CopyInstruction,
  lookup: Lookup,
  ex: (w: string) => string,
): CopySources {
  const isAdd = instr.kind === 'ADD';
  const heredocByName = new Map(instr.heredocs.map((h) => [h.name, h]));
  const inline: { name: string; content: string }[] = [];
  const urls: string[] = [];
  const patterns: string[] = [];
  for (const raw of instr.sources) {
    const hd = /^<<-?["']?([^"']+)["']?$/.exec(raw);
    if (hd && heredocByName.has(hd[1]!)) {
      const h = heredocByName.get(hd[1]!)!;
      inline.push({ name: h.name, content: h.expand ? expandHeredoc(h.content, lookup) : h.content });
      continue;
    }
    const src = ex(raw);
    if (isAdd && /^https?:\/\//i.test(src)) {
      urls.push(src);
      continue;
    }
    if (isAdd && /^(git@|git:\/\/)|\.git(#.*)?$/.test(src)) {
      bad(instr, `ADD ${src}: git sources are not supported by Berth; clone into the context and COPY`);
    }
    patterns.push(src);
  }
  return { inline, urls, patterns };
}

export interface DownloadDeps {
  /** Downloads a URL to `file`; returns the Last-Modified time if any. */
  readonly fetchUrl:
    | ((url: string, file: string, signal: AbortSignal) => Promise<Date | undefined>)
    | undefined;
  readonly tmpDir: string;
  readonly signal: AbortSignal;
}

/**
 * Downloads ADD's URLs into a new folder under tmpDir (the caller removes it), each file named
 * by its URL's last path part, mode 0600, with the server's Last-Modified time; `--checksum`
 * is checked against each.
 */
export async function downloadSources(
  instr: CopyInstruction,
  urls: readonly string[],
  checksumFlag: string | undefined,
  deps: DownloadDeps,
): Promise<{ dir: string; downloads: CopyItem[] }> {
  const { fetchUrl } = deps;
  if (!fetchUrl) bad(instr, 'ADD of a URL is not available in this daemon');
  const dir = await fsp.mkdtemp(path.join(deps.tmpDir, 'add-'));
  const downloads: CopyItem[] = [];
  try {
    for (const url of urls) {
      const name = path.posix.basename(new URL(url).pathname) || 'index.html';
      const file = path.join(dir, name);
      const mtime = await fetchUrl(url, file, deps.signal);
      if (checksumFlag) {
        const sum = `sha256:${createHash('sha256')
          .update(await fsp.readFile(file))
          .digest('hex')}`;
        if (sum !== checksumFlag)
          bad(instr, `ADD ${url}: checksum mismatch: expected ${checksumFlag}, got ${sum}`);
      }
      await fsp.chmod(file, 0o600);
      if (mtime) await fsp.utimes(file, mtime, mtime);
      downloads.push({ rel: name, pattern: name });
    }
  } catch (err) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, downloads };
}
