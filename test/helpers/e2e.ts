// Shared pieces of the end-to-end files: a berthd with the busybox image for one test file
// (removed with every container it ran, even after a failure), `ok` for commands that must
// succeed, and a bounded poll.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startTestDaemon, type TestDaemon, type TestDaemonOptions } from './daemon.ts';
import { busyboxTar } from './fixtures.ts';

/** The daemon of this test file; `d` may be replaced (e.g. after `d.restart()`). */
export interface DaemonHolder {
  d: TestDaemon;
}

/** Starts one berthd per file with `busybox` (CMD sh) imported; cleans up in `after`. */
export function useBusyboxDaemon(opts: TestDaemonOptions = {}): DaemonHolder {
  const holder = {} as DaemonHolder;
  before(async () => {
    holder.d = await startTestDaemon(opts);
    const r = await holder.d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    const d = holder.d;
    if (!d) return;
    const ids = (await d.berth(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length > 0) await d.berth(['rm', '-f', ...ids]);
    await d.cleanup();
  });
  return holder;
}

/** Asserts exit 0 and returns stdout. */
export function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Polls `fn` every 150 ms until it is true; fails after `ms`. */
export async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * Build contexts for one test file, removed after its tests: `ctxDir(files)` makes one
 * (makeContext); push any other temp path onto `dirs` to have it removed too.
 */
export function useContextDirs(): {
  ctxDir: (files: Parameters<typeof makeContext>[0]) => Promise<string>;
  dirs: string[];
} {
  const dirs: string[] = [];
  after(async () => {
    const { rm } = await import('node:fs/promises');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  return {
    dirs,
    ctxDir: async (files) => {
      const d = await makeContext(files);
      dirs.push(d);
      return d;
    },
  };
}

/** A build context in a fresh temp dir: `files` maps relative paths to contents (or content + mode). */
export async function makeContext(
  files: Record<string, string | { content: string; mode?: number }>,
): Promise<string> {
  const { mkdtemp, mkdir, writeFile } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-ctx-'));
  for (const [rel, v] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    const f = typeof v === 'string' ? { content: v } : v;
    await writeFile(p, f.content, { mode: f.mode ?? 0o644 });
  }
  return dir;
}
