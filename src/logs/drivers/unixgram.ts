// The Node side of berth-unixgram-relay: one long-lived helper per daemon, started on first use,
// answers in request order (so a FIFO of waiters suffices). A dead helper fails its waiters and
// is started again on the next send.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import os from 'node:os';
import type { Readable, Writable } from 'node:stream';

export class UnixgramRelay {
  readonly #bin: string;
  #child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  #waiters: { resolve: () => void; reject: (e: Error) => void; path: string }[] = [];
  #answers = Buffer.alloc(0);

  constructor(bin: string) {
    this.#bin = bin;
  }

  #start(): ChildProcessByStdio<Writable, Readable, null> {
    const c = spawn(this.#bin, [], { stdio: ['pipe', 'pipe', 'ignore'] });
    const fail = (why: string) => {
      if (this.#child === c) this.#child = undefined;
      const w = this.#waiters;
      this.#waiters = [];
      this.#answers = Buffer.alloc(0);
      for (const x of w) x.reject(new Error(`unixgram relay ${why}`));
    };
    c.on('error', (e) => fail(`failed: ${e.message}`));
    c.on('exit', (code) => fail(`exited (${code})`));
    c.stdin.on('error', () => {});
    c.stdout.on('data', (b: Buffer) => {
      this.#answers = Buffer.concat([this.#answers, b]);
      while (this.#answers.length >= 4) {
        const code = this.#answers.readInt32LE(0);
        this.#answers = this.#answers.subarray(4);
        const w = this.#waiters.shift();
        if (!w) continue;
        if (code === 0) w.resolve();
        else {
          const name = Object.entries(os.constants.errno).find(([, n]) => n === code)?.[0] ?? `errno ${code}`;
          w.reject(new Error(`send to unixgram://${w.path}: ${name}`));
        }
      }
    });
    c.unref();
    (c.stdout as Readable & { unref?: () => void }).unref?.();
    this.#child = c;
    return c;
  }

  send(path: string, data: Buffer): Promise<void> {
    const c = this.#child ?? this.#start();
    const p = Buffer.from(path);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(p.length);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(data.length);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject, path });
      c.stdin.write(Buffer.concat([head, p, len, data]));
    });
  }

  close(): void {
    this.#child?.kill();
    this.#child = undefined;
  }
}
