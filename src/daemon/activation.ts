// systemd socket activation (sd_listen_fds(3)): systemd opens the listening sockets of
// berthd.socket and hands them over as fds 3, 4, … with LISTEN_FDS=<count> and
// LISTEN_PID=<our pid>; `-H fd://` serves all of them, `-H fd://N` only fd N, as dockerd.
import { FailedPreconditionError } from '../errdefs/index.ts';

/** The first fd systemd passes (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;

/**
 * The listening fds handed to this process. Removes LISTEN_* from the environment so the
 * helpers berthd spawns (conmon, runc, relays) never believe the sockets are theirs.
 */
export function takeActivationFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number[] {
  const count = Number(env.LISTEN_FDS);
  const forUs = env.LISTEN_PID !== undefined && Number(env.LISTEN_PID) === pid;
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  if (!forUs || !Number.isInteger(count) || count < 1) return [];
  return Array.from({ length: count }, (_, i) => FIRST_FD + i);
}

/** The fds one `fd://` or `fd://N` host names, out of those handed over. */
export function activationListeners(spec: string, handed: readonly number[]): number[] {
  if (handed.length === 0) {
    throw new FailedPreconditionError(
      'NO_ACTIVATION_SOCKETS',
      `no sockets found via socket activation for ${spec}: make sure the service was started by systemd (berthd.socket), with LISTEN_FDS and LISTEN_PID set`,
    );
  }
  const which = spec.slice('fd://'.length);
  if (which === '') return [...handed];
  const fd = Number(which);
  if (!handed.includes(fd)) {
    throw new FailedPreconditionError(
      'NO_ACTIVATION_SOCKETS',
      `too few socket activated files passed in by systemd: ${spec} names fd ${which}, but berthd was handed ${handed.join(', ')}`,
    );
  }
  return [fd];
}
