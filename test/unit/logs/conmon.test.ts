// A real busybox container under conmon + runc writes its output to a k8s-file log, and readLogs
// reads back exactly what it printed: stdout and stderr lines, a line without a newline, a line
// longer than conmon's 8 KiB buffer (split into P records), and a follow across conmon's
// rotation at --log-size-max. Skipped where conmon, runc or root are missing.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type LogRecord, readLogs } from '../../../src/logs/index.ts';
import { busyboxTar } from '../../helpers/fixtures.ts';
import { collect, rest, sleep } from './helpers.ts';

/** Absolute path of a command on PATH (conmon wants the runtime's), or undefined. */
const which = (cmd: string): string | undefined => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
};
const RUNC = which('runc');
const CONMON = which('conmon');
const skip = process.getuid?.() !== 0 ? 'needs root' : !RUNC || !CONMON ? 'needs conmon and runc' : false;

let dir: string;
let rootfs: string;
let runcRoot: string;
const cgroupParent = `berth-logs-test-${process.pid}`;
const ids: string[] = [];

before(() => {
  if (skip) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'berth-logs-conmon-'));
  rootfs = path.join(dir, 'rootfs');
  runcRoot = path.join(dir, 'runc');
  mkdirSync(rootfs);
  execFileSync('tar', ['-xf', busyboxTar(), '-C', rootfs]);
});

after(async () => {
  if (skip) return;
  for (const id of ids) spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id]);
  // runc removes each container's cgroup; the parent this test named is ours to remove.
  for (const h of await fsp.readdir('/sys/fs/cgroup').catch(() => [])) {
    await fsp.rmdir(path.join('/sys/fs/cgroup', h, cgroupParent)).catch(() => {});
  }
  await fsp.rm(dir, { recursive: true, force: true });
});

interface Started {
  readonly log: string;
  /** Resolves once conmon has written the exit file (the container's output is complete). */
  readonly exited: Promise<void>;
  readonly exitCode: () => number;
}

/** Creates the container through conmon (which runs `runc create`) and starts it. */
async function run(id: string, script: string, extra: string[] = []): Promise<Started> {
  const bundle = path.join(dir, id);
  mkdirSync(bundle);
  // runc's default spec, adjusted: no terminal, no rlimits (the hard RLIMIT_NOFILE here is below
  // runc's default), our rootfs and command, a cgroup under a parent this test owns.
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  spec.root = { path: rootfs, readonly: true };
  spec.process.terminal = false;
  delete spec.process.rlimits;
  spec.process.args = ['sh', '-c', script];
  spec.hostname = id;
  spec.linux.cgroupsPath = `/${cgroupParent}/${id}`;
  writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));

  const log = path.join(dir, `${id}.log`);
  const exitDir = path.join(dir, 'exits');
  const sockDir = path.join(dir, 'sock');
  mkdirSync(exitDir, { recursive: true });
  mkdirSync(sockDir, { recursive: true });
  ids.push(id);
  // conmon reports `{"data": <pid>}` (or an error) on the sync pipe once `runc create` is done. It may
  // keep the pipe open after that, so wait for the message, not for the end of the pipe.
  const child = spawn(
    CONMON!,
    [
      '--api-version', '1',
      '-c', id,
      '-u', id,
      '-n', id,
      '-r', RUNC!,
      '-b', bundle,
      '-p', path.join(bundle, 'pidfile'),
      '-P', path.join(bundle, 'conmon.pid'),
      '--exit-dir', exitDir,
      '-l', `k8s-file:${log}`,
      '--socket-dir-path', sockDir,
      '--runtime-arg', `--root=${runcRoot}`,
      '--log-level', 'error',
      ...extra,
    ], // biome-ignore format: flag/value pairs
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { ...process.env, _OCI_SYNCPIPE: '3' } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  const message = await new Promise<string>((resolve, reject) => {
    let sync = '';
    const timer = setTimeout(() => reject(new Error(`conmon did not report: ${stderr}`)), 20_000);
    const done = (text: string) => {
      clearTimeout(timer);
      resolve(text);
    };
    pipe.on('data', (d: Buffer) => {
      sync += d.toString();
      if (sync.includes('\n')) done(sync);
    });
    pipe.on('end', () => done(sync));
    child.on('error', reject);
  });
  pipe.destroy();
  child.stderr!.destroy();
  // API version 1: `{"data": <pid>}`, or a negative data and a message on failure.
  const msg = JSON.parse(message.trim().split('\n')[0] || '{}') as { data?: number; message?: string };
  assert.ok(msg.data && msg.data > 0, `conmon did not create the container: ${msg.message ?? stderr}`);
  execFileSync('runc', ['--root', runcRoot, 'start', id]);

  const exitFile = path.join(exitDir, id);
  let code = -1;
  const exited = (async () => {
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (existsSync(exitFile)) {
        const text = readFileSync(exitFile, 'utf8').trim();
        if (text !== '') {
          code = Number(text);
          return;
        }
      }
      await sleep(50);
    }
    throw new Error(`container ${id} did not exit`);
  })();
  exited.catch(() => {});
  return { log, exited, exitCode: () => code };
}

function joined(records: readonly LogRecord[], stream: 'stdout' | 'stderr'): string {
  return Buffer.concat(records.filter((r) => r.stream === stream).map((r) => r.data)).toString();
}

test('reads back what a container printed through conmon', { skip }, async () => {
  const long = 'L'.repeat(20000);
  // conmon drains stdout and stderr separately, so their relative order in the file is only the
  // program's when it pauses between them.
  const c = await run(
    `logs-basic-${process.pid}`,
    [
      'echo out1',
      'sleep 0.05',
      'echo err1 >&2',
      'sleep 0.05',
      'echo out2',
      'printf "no newline yet"',
      'sleep 0.2',
      'printf " ...done\\n"',
      `printf '%s\\n' ${long}`,
      'sleep 0.05',
      'echo err2 >&2',
      'sleep 0.05',
      'printf tail-without-newline',
      'exit 3',
    ].join('; '),
  );
  await c.exited;
  assert.equal(c.exitCode(), 3);
  const records = await collect(readLogs(c.log, { exited: c.exited }));
  assert.equal(
    joined(records, 'stdout'),
    `out1\nout2\nno newline yet ...done\n${long}\ntail-without-newline`,
  );
  assert.equal(joined(records, 'stderr'), 'err1\nerr2\n');
  // conmon writes the 20000-byte line as P records (its buffer is 8 KiB) and an F record.
  const longRecs = records.filter((r) => r.data.includes('LLLL'));
  assert.ok(longRecs.length >= 3, `${longRecs.length} records for the long line`);
  assert.ok(records.every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00$/.test(r.time)));

  // The same through tail, streams and since.
  const tail2 = await collect(readLogs(c.log, { tail: 2, exited: c.exited }));
  assert.deepEqual(
    tail2.map((r) => r.data.toString()),
    ['err2\n', 'tail-without-newline'],
  );
  assert.equal(joined(await collect(readLogs(c.log, { stderr: true, exited: c.exited })), 'stdout'), '');
  // conmon writes whole records (an output line without its newline is a complete P record), so
  // the file has no torn line and `exited` changes nothing here.
  assert.equal((await collect(readLogs(c.log))).length, records.length);
  assert.ok(readFileSync(c.log).at(-1) === 0x0a);
});

test('follows a container across conmon rotations at --log-size-max', { skip }, async () => {
  // 150 numbered lines of ~100 bytes, 1 KB log limit: conmon replaces the file about every 10 lines.
  const c = await run(
    `logs-rotate-${process.pid}`,
    'i=0; while [ $i -lt 150 ]; do echo "line $i ................................................................................"; i=$((i+1)); usleep 5000; done; echo done',
    ['--log-size-max', '1024'],
  );
  const ac = new AbortController();
  const it = readLogs(c.log, { follow: true, exited: c.exited, signal: ac.signal })[Symbol.asyncIterator]();
  let records: LogRecord[];
  try {
    records = await rest(it, 30_000);
  } finally {
    ac.abort();
  }
  const lines = joined(records, 'stdout').split('\n').filter(Boolean);
  assert.equal(lines.at(-1), 'done');
  const nums = lines.slice(0, -1).map((l) => Number(/^line (\d+) /.exec(l)?.[1]));
  // In order and never repeated; conmon's rotation discards the old file, so a follower can only
  // miss lines if it falls more than a whole file behind. It should keep up here.
  for (let i = 1; i < nums.length; i++)
    assert.ok(nums[i]! > nums[i - 1]!, `line ${nums[i]} after ${nums[i - 1]}`);
  assert.ok(nums.length >= 140, `followed ${nums.length} of 150 lines`);
  // The file itself holds only the last part.
  assert.ok((await fsp.stat(c.log)).size <= 1024);
});
