// One daemon per data root: an exclusive pid lock file. A lock left by a dead process (kill -9)
// is taken over; a live holder is an error naming its pid.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { FailedPreconditionError } from '../errdefs/index.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireDataRootLock(dataRoot: string): Promise<() => Promise<void>> {
  const file = path.join(dataRoot, 'berthd.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await fsp.open(file, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        const owner = Number((await fsp.readFile(file, 'utf8').catch(() => '')).trim());
        if (owner === process.pid) await fsp.rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await fsp.readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      const cmd = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes('berthd')) {
        throw new FailedPreconditionError(
          'DATA_ROOT_LOCKED',
          `another berthd (pid ${pid}) is using data root ${dataRoot}; stop it first or start this one with a different --data-root`,
        );
      }
    }
    // Stale lock from a process that died: take it over.
    await fsp.rm(file, { force: true });
  }
  throw new FailedPreconditionError(
    'DATA_ROOT_LOCKED',
    `could not lock data root ${dataRoot}: ${file} keeps reappearing`,
  );
}
