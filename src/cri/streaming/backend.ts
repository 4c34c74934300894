// What the streaming server needs of the rest of berthd: a small role interface, so the HTTP and
// websocket/SPDY framing never sees containers, sandboxes or runc (as the kubelet's
// streaming.Runtime interface keeps them apart).
import type { Duplex, Readable, Writable } from 'node:stream';

/** remotecommand's TerminalSize (the resize channel's JSON). */
export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/** The client's streams for one exec or attach, already demultiplexed. */
export interface SessionIO {
  readonly tty: boolean;
  /** Present when the request asked for stdin; ends when the client closes it. */
  readonly stdin?: Readable;
  /** Present when asked for; the backend ends them once the process's output is all written. */
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  /** Terminal resizes from the client (tty sessions), in order. */
  onResize(listener: (size: TerminalSize) => void): void;
  /** Aborted when the client goes away: the backend ends what it started. */
  readonly signal: AbortSignal;
}

export interface StreamingBackend {
  /**
   * Checked when the Exec/Attach RPC is called, before a URL is handed out: throws NOT_FOUND for
   * an unknown container and FAILED_PRECONDITION for one that does not run.
   */
  checkContainer?(containerId: string): Promise<void>;
  /** Runs cmd in the container; resolves to its exit code after stdout/stderr are ended. */
  exec?(containerId: string, cmd: readonly string[], io: SessionIO): Promise<number>;
  /** Joins the container's main process streams; resolves when the client or the process ends. */
  attach?(containerId: string, io: SessionIO): Promise<void>;
  /** Checked by the PortForward RPC: NOT_FOUND / FAILED_PRECONDITION. Resolves to the full id. */
  checkSandbox(sandboxId: string): Promise<string>;
  /**
   * A TCP connection to 127.0.0.1:port inside the pod's network namespace. Rejects when the pod
   * is gone; the duplex emits 'error' (naming the port and why) when the connection cannot be
   * made or breaks, and ends when the pod's side closes.
   */
  portForward(sandboxId: string, port: number, signal: AbortSignal): Promise<Duplex>;
}
