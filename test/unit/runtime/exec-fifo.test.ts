// startThroughFifo against a real fifo and a real writer process standing in for `runc init`
// (which blocks opening the fifo for writing, writes one byte, then execs).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fsp, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { execFifoPath, startThroughFifo } from '../../../src/runtime/exec-fifo.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'berth-fifo-'));
after(() => rmSync(root, { recursive: true, force: true }));

function makeFifo(id: string): string {
  mkdirSync(path.join(root, id));
  const fifo = execFifoPath(root, id);
  execFileSync('mkfifo', [fifo]);
  return fifo;
}

test('a writer waiting on the fifo is released and the fifo removed', async () => {
  const fifo = makeFifo('waiting');
  const done = path.join(root, 'released');
  // Opens the fifo for writing (blocks until a reader), writes its byte, then marks that it ran on.
  const w = spawn('sh', ['-c', `printf 0 > '${fifo}' && touch '${done}' && sleep 5`], { stdio: 'ignore' });
  try {
    assert.equal(await startThroughFifo(root, 'waiting', w.pid!, 10_000), true);
    assert.equal(existsSync(fifo), false, 'the fifo goes, as after runc start');
    const deadline = Date.now() + 5000;
    while (!existsSync(done) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(existsSync(done), true, 'the writer went on past the fifo');
  } finally {
    w.kill('SIGKILL');
  }
});

test('a writer that arrives late (the reader opened first) is released too', async () => {
  const fifo = makeFifo('late');
  const w = spawn('sh', ['-c', `sleep 0.3; printf 0 > '${fifo}'; sleep 5`], { stdio: 'ignore' });
  try {
    assert.equal(await startThroughFifo(root, 'late', w.pid!, 10_000), true);
    assert.equal(existsSync(fifo), false);
  } finally {
    w.kill('SIGKILL');
  }
});

test('a process that died before writing is an error naming the container; no fifo is false', async () => {
  makeFifo('dead');
  const w = spawn('true', [], { stdio: 'ignore' });
  await new Promise((r) => w.once('exit', r));
  await assert.rejects(startThroughFifo(root, 'dead', w.pid!, 10_000), /container dead's process exited/);
  assert.equal(await startThroughFifo(root, 'absent', process.pid, 10_000), false);
});

test('a fifo removed by another start while the process lives is started, not a timeout', async () => {
  // Stands in for an admin's `runc start` that read the byte and removed the fifo first: the
  // process lives on and never writes to this reader.
  const fifo = makeFifo('taken');
  const w = spawn('sleep', ['5'], { stdio: 'ignore' });
  try {
    const started = startThroughFifo(root, 'taken', w.pid!, 3000);
    // Removed once the reader has it open (before, it is "no fifo": false, runc's own start).
    const opened = async () => {
      for (const fd of await fsp.readdir('/proc/self/fd'))
        if ((await fsp.readlink(`/proc/self/fd/${fd}`).catch(() => '')) === fifo) return true;
      return false;
    };
    for (let i = 0; i < 250 && !(await opened()); i++) await new Promise((r) => setTimeout(r, 20));
    rmSync(fifo, { force: true });
    assert.equal(await started, true);
  } finally {
    w.kill('SIGKILL');
  }
});
