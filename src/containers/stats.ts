// Cgroup samples for `stats`, with the sample before each for CPU deltas. Kept apart from the
// service so the lifecycle code stays small; the service owns one sampler.
import { type CgroupPaths, type CgroupSample, readCgroupSample } from '../runtime/index.ts';

export class StatsSampler {
  readonly #last = new Map<string, CgroupSample>();

  /**
   * A fresh sample and, when asked, the one before it: the previous call's when 0.1–5 s old,
   * else one taken `windowMs` earlier (Docker's daemon waits a whole second here).
   */
  async sample(
    id: string,
    cg: CgroupPaths,
    withPrevious: boolean,
    windowMs = 250,
  ): Promise<{ cur: CgroupSample; prev?: CgroupSample }> {
    let prev: CgroupSample | undefined;
    if (withPrevious) {
      const cached = this.#last.get(id);
      const age = cached ? Date.now() - cached.at.getTime() : Number.POSITIVE_INFINITY;
      if (age >= 100 && age <= 5000) prev = cached;
      else {
        prev = await readCgroupSample(cg);
        await new Promise((r) => setTimeout(r, windowMs));
      }
    }
    const cur = await readCgroupSample(cg);
    this.#last.set(id, cur);
    return { cur, ...(prev ? { prev } : {}) };
  }

  forget(id: string): void {
    this.#last.delete(id);
  }
}
