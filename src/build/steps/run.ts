// RUN: the command runs in a container made from the step's parent image (so networking,
// extra hosts, shm size and ulimits are the container engine's own), its output is streamed
// from the container log, and the container's diff becomes the step's layer.
import type { ContainerFsOps, ContainerService } from '../../containers/index.ts';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { readLogs } from '../../logs/index.ts';
import type { Digest } from '../../oci/digest.ts';
import type { ContainerConfig } from '../../oci/image.ts';
import type { Instruction } from '../dockerfile/types.ts';
import { commandArgs } from '../metadata-steps.ts';
import type { MountPlan } from './run-mounts.ts';

export interface RunDeps {
  readonly containers: ContainerService;
  readonly fsops: ContainerFsOps;
}

export interface RunStep {
  readonly image: Digest;
  readonly argv: readonly string[];
  /** The stage's config (Env, User, WorkingDir); `extraEnv` adds ARGs and secrets for this run only. */
  readonly config: ContainerConfig;
  readonly extraEnv: readonly string[];
  readonly networkMode: string;
  readonly extraHosts: readonly string[];
  readonly shmSize?: number;
  readonly ulimits?: readonly { Name: string; Soft: number; Hard: number }[];
  readonly mounts: MountPlan;
  readonly signal: AbortSignal;
  readonly onContainer: (id: string) => void;
  /** Output of the step's process, with the stream it wrote to (Docker colours stderr). */
  readonly onOutput: (data: Buffer, stream: 'stdout' | 'stderr') => void;
}

/** Marks a RUN step's container, so a daemon restart after a crash can remove leftovers. */
export const BUILD_STEP_LABEL = 'com.berth.build-step';

/** A RUN whose command failed: Docker's legacy wording plus the last lines of output. */
export class RunFailedError extends InvalidArgumentError {
  readonly exitCode: number;
  constructor(argv: readonly string[], code: number, tail: string) {
    super(
      'BUILD_RUN_FAILED',
      `The command '${argv.join(' ')}' returned a non-zero code: ${code}${tail ? `\nlast output:\n${tail}` : ''}`,
    );
    this.exitCode = code;
  }
}

/** Runs the step; returns the container ID (its diff not yet taken) and removes it via `done`. */
export async function runInContainer(
  deps: RunDeps,
  step: RunStep,
): Promise<{
  layer: () => Promise<{ layer: import('node:stream').Readable; layerDir: string }>;
  remove: () => Promise<void>;
}> {
  const { containers } = deps;
  const env = [...(step.config.Env ?? []), ...step.extraEnv];
  const { id } = await containers.create({
    config: {
      Image: step.image,
      Cmd: [...step.argv],
      Entrypoint: [''],
      Env: env,
      User: step.config.User ?? '',
      WorkingDir: step.config.WorkingDir ?? '',
      Labels: { [BUILD_STEP_LABEL]: 'true' },
      AttachStdout: true,
      AttachStderr: true,
    },
    hostConfig: {
      NetworkMode: step.networkMode,
      ExtraHosts: [...step.extraHosts],
      Binds: step.mounts.binds,
      Tmpfs: step.mounts.tmpfs,
      LogConfig: { Type: 'json-file', Config: {} },
      ...(step.shmSize ? { ShmSize: step.shmSize } : {}),
      ...(step.ulimits ? { Ulimits: step.ulimits } : {}),
    },
  });
  const remove = () => containers.remove(id, { force: true, volumes: true }).catch(() => {});
  try {
    step.onContainer(id);
    const onAbort = () => void containers.kill(id).catch(() => {});
    step.signal.addEventListener('abort', onAbort, { once: true });
    const lines: string[] = [];
    try {
      await containers.start(id);
      const exited = containers.wait(id, 'not-running');
      for await (const rec of readLogs(containers.logPath(id), {
        follow: true,
        exited,
        signal: step.signal,
      })) {
        step.onOutput(rec.data, rec.stream === 'stderr' ? 'stderr' : 'stdout');
        lines.push(...rec.data.toString('utf8').split('\n').filter(Boolean));
        if (lines.length > 20) lines.splice(0, lines.length - 20);
      }
      const { code } = await exited;
      if (step.signal.aborted) throw step.signal.reason ?? new Error('build cancelled');
      if (code !== 0) throw new RunFailedError(step.argv, code, lines.slice(-10).join('\n'));
    } finally {
      step.signal.removeEventListener('abort', onAbort);
    }
    return { layer: () => deps.fsops.detachDiff(id, step.mounts.targets), remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * The argv of a RUN. Heredocs are the shell's business (the builder expands nothing in RUN): a
 * lone `RUN <<EOF` runs the body as the script; otherwise the text and the bodies go to the
 * shell together.
 */
export function runArgv(
  instr: Extract<Instruction, { kind: 'RUN' }>,
  shell: readonly string[] | undefined,
): string[] {
  const argv = commandArgs(instr.command, shell);
  if (instr.heredocs.length === 0 || instr.command.form !== 'shell') return argv;
  const sh = shell ?? ['/bin/sh', '-c'];
  const lone = instr.heredocs.length === 1 && /^\s*<<-?\s*["']?[^\s"']+["']?\s*$/.test(instr.command.text);
  return lone
    ? [...sh, instr.heredocs[0]!.content]
    : [...sh, [instr.command.text, ...instr.heredocs.map((h) => `${h.content}${h.name}`)].join('\n')];
}
