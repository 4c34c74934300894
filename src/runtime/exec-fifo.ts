// `runc start` without spawning runc. A container runc has created waits in `runc init`, which
// blocks opening `<root>/<id>/exec.fifo` for writing, writes one byte, and then execs the
// process. `runc start` (runc 1.1: libcontainer's exec()) is just the other end of that: open
// the fifo for reading, read the byte, remove the fifo (runc then reports the container
// `running`: the fifo's absence is its state). A spawned `runc start` costs 5-12 ms of the
// run path on this machine (a Go binary's start and its state load); doing the same three
// steps here costs well under one. The runc that created the container hooks nothing to start
// (its poststart hooks run at create in 1.1), so nothing else is skipped.
//
// Used only for runc (other runtimes keep their own `start`) and only when the fifo is there; a
// caller falls back to the runtime's `start` when this returns false, so every case this does
// not cover (no fifo: already started, stopped, another runtime's layout) gets runc's own answer.
import { constants as fsConstants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { InternalError } from '../errdefs/index.ts';

/** The exec fifo of a container created by runc with state root `root`. */
export function execFifoPath(root: string, id: string): string {
  return path.join(root, id, 'exec.fifo');
}

/** Whether `pid` is still a live process (not gone, not a zombie waiting for its reaper). */
async function alive(pid: number): Promise<boolean> {
  const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The state field follows the command name, which is in parentheses and may hold anything.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== '' && state !== 'Z' && state !== 'X';
}

/**
 * Releases the created container's process. false: there is no exec fifo (the caller runs the
 * runtime's own `start`). Throws when the process died before it was released, or when it did
 * not reach its fifo within `timeoutMs`.
 */
export async function startThroughFifo(
  root: string,
  id: string,
  pid: number,
  timeoutMs: number,
): Promise<boolean> {
  const fifo = execFifoPath(root, id);
  const st = await fsp.lstat(fifo).catch(() => undefined);
  if (!st?.isFIFO()) return false;
  // Non-blocking: a blocking open would hold a libuv pool thread until init opens its end, and
  // for good if init died first. With O_NONBLOCK the open returns at once; a read then gives
  // EAGAIN while init holds the fifo open without having written, and end-of-file while no
  // writer has it open (not yet, or already closed after writing: the byte stays readable).
  const fh = await fsp
    .open(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK)
    .catch((err: NodeJS.ErrnoException) => {
      // Removed since the lstat (another start took it): runc's own start gives the answer.
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  if (!fh) return false;
  try {
    const buf = Buffer.alloc(16);
    const deadline = Date.now() + timeoutMs;
    const readByte = () =>
      fh.read(buf, 0, buf.length, null).then(
        (r) => r.bytesRead > 0,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'EAGAIN') return false;
          throw err;
        },
      );
    for (let wait = 0; ; wait = Math.min(20, wait + 1)) {
      // The byte: init is past the fifo and execs the process.
      if (await readByte()) break;
      // Nothing yet: init has not opened the fifo (or has, without writing yet). Give up only
      // when it is dead, as runc's start does, or after the bound. A short-lived process may
      // have been released, run and exited between the read and the check: read once more.
      if (!(await alive(pid))) {
        if (await readByte()) break;
        throw new InternalError('CONTAINER_DEAD', `container ${id}'s process exited before it was started`);
      }
      // Alive, no byte, and the fifo gone: something else (an admin's `runc start`) read the
      // byte and removed the fifo, so the process runs, as runc would report. Waiting out the
      // bound would end in START_TIMEOUT, and the caller's cleanup would kill a running container.
      const fifoThere = await fsp.lstat(fifo).then(
        (s) => s.isFIFO(),
        () => false,
      );
      if (!fifoThere) return true;
      if (Date.now() > deadline)
        throw new InternalError(
          'START_TIMEOUT',
          `container ${id}'s process did not become ready to start within ${timeoutMs / 1000}s; the host is overloaded or the runtime stuck: try again`,
        );
      await new Promise((r) => setTimeout(r, wait));
    }
  } finally {
    await fh.close();
  }
  // runc's state for the container is now `running` (no fifo).
  await fsp.rm(fifo, { force: true });
  return true;
}
