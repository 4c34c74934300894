// Output of several containers on one terminal, as Compose v2 prints it: `web-1  | line`, the
// prefix padded to the longest name and coloured per container; `up` attached waits for the
// containers to exit (or stops them all at the first exit with --abort-on-container-exit).
import { type ContainerSummary, type ComposeApi, LABEL, type Project } from '../../compose/index.ts';
import type { CliContext } from '../context.ts';

/** v2's rotation of ANSI colours for prefixes. */
const COLOURS = ['36', '33', '32', '35', '34', '36;1', '33;1', '32;1', '35;1', '34;1'];

export interface FollowOptions {
  readonly services: readonly string[];
  readonly follow: boolean;
  /** `up` attached: return when every container has exited. */
  readonly untilExit?: boolean;
  readonly abortOnExit?: boolean;
  readonly exitCodeFrom?: string;
  readonly color: boolean;
  readonly prefix: boolean;
  readonly timestamps: boolean;
  readonly tail?: string;
  readonly since?: string;
  readonly until?: string;
  readonly stopTimeout?: number;
  readonly index?: number;
}

/** `service-N`: the container name without the project, as v2's prefixes show it. */
export function shortName(c: ContainerSummary): string {
  return `${c.Labels[LABEL.service]}-${c.Labels[LABEL.number]}`;
}

/** Splits a multiplexed (or raw, with a TTY) log stream into lines, calling `line` for each. */
async function eachLine(
  stream: AsyncIterable<unknown>,
  tty: boolean,
  line: (s: string, err: boolean) => void,
): Promise<void> {
  let buf: Buffer = Buffer.alloc(0);
  const partial: [string, string] = ['', ''];
  const emit = (chunk: Buffer, err: boolean) => {
    const i = err ? 1 : 0;
    const text = partial[i] + chunk.toString('utf8');
    const lines = text.split('\n');
    partial[i] = lines.pop() ?? '';
    for (const l of lines) line(l.replace(/\r$/, ''), err);
  };
  for await (const c of stream) {
    if (tty) {
      emit(c as Buffer, false);
      continue;
    }
    buf = buf.length ? Buffer.concat([buf, c as Buffer]) : (c as Buffer);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      emit(buf.subarray(8, 8 + size), buf[0] === 2);
      buf = buf.subarray(8 + size);
    }
  }
  for (const [i, rest] of partial.entries()) if (rest) line(rest, i === 1);
}

/** Prints the containers' logs with prefixes; resolves with the exit code `up` ends with. */
export async function followProject(
  ctx: CliContext,
  api: ComposeApi,
  p: Project,
  o: FollowOptions,
): Promise<number> {
  const cs = (await api.containers(p.name, { oneoff: false })).filter(
    (c) =>
      o.services.includes(c.Labels[LABEL.service] ?? '') &&
      (o.index === undefined || c.Labels[LABEL.number] === String(o.index)),
  );
  cs.sort((a, b) => shortName(a).localeCompare(shortName(b)));
  const width = Math.max(0, ...cs.map((c) => shortName(c).length));
  const abort = new AbortController();
  let exitCode = 0;
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    ctx.err.write('Aborting on container exit...\n');
    await Promise.all(cs.map((c) => api.stop(c.Id, o.stopTimeout).catch(() => {})));
  };
  const onSigint = () => {
    if (stopping) process.exit(130);
    ctx.err.write('Gracefully stopping... (press Ctrl+C again to force)\n');
    void stopAll();
  };
  if (o.untilExit) process.on('SIGINT', onSigint);
  try {
    await Promise.all(
      cs.map(async (c, i) => {
        const name = shortName(c);
        const colour = COLOURS[i % COLOURS.length]!;
        const pre = !o.prefix
          ? ''
          : o.color
            ? `\x1b[${colour}m${name.padEnd(width)}  |\x1b[0m `
            : `${name.padEnd(width)}  | `;
        const inspect = await api.inspect(c.Id);
        const tty = (inspect.Config as { Tty?: boolean }).Tty === true;
        const stream = await api.logs(
          c.Id,
          {
            follow: o.follow,
            timestamps: o.timestamps,
            tail: o.tail ?? 'all',
            ...(o.since ? { since: o.since } : {}),
            ...(o.until ? { until: o.until } : {}),
          },
          abort.signal,
        );
        const lines = eachLine(stream, tty, (l, err) =>
          (err ? ctx.err : ctx.out).write(`${pre}${l}\n`),
        ).catch(() => {});
        if (!o.untilExit) return lines;
        const code = await api.wait(c.Id);
        await lines;
        ctx.out.write(`${name} exited with code ${code}\n`);
        const svc = c.Labels[LABEL.service];
        if (o.exitCodeFrom ? svc === o.exitCodeFrom : o.abortOnExit && !stopping) exitCode = code;
        if (o.abortOnExit) await stopAll();
      }),
    );
  } finally {
    if (o.untilExit) process.off('SIGINT', onSigint);
    abort.abort();
  }
  return exitCode;
}
