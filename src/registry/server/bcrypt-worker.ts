// The worker thread behind BcryptPool: bcrypt is slow on purpose (tens to hundreds of ms per
// check), so it runs here instead of on the registry's event loop. Bundled on its own as
// dist/berth-registry-bcrypt.mjs (scripts/build.mjs).
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

interface Job {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

parentPort?.on('message', (job: Job) => {
  let ok = false;
  try {
    ok = bcrypt.compareSync(job.password, job.hash);
  } catch {
    // A malformed hash never matches.
  }
  parentPort?.postMessage({ id: job.id, ok });
});
