// The log driver interface. conmon writes every container's output to its local k8s-file log;
// a remote driver is a sink that berthd's shipper (shipper.ts) feeds from that file. A driver
// only knows how to turn messages into its wire format and deliver them.
import type { Instant } from '../k8s-file.ts';

/** What a driver may tell about the container (Docker's logger.Info). */
export interface ContainerLogInfo {
  readonly id: string;
  /** Without the leading slash. */
  readonly name: string;
  readonly imageName: string;
  /** `sha256:<hex>`. */
  readonly imageId: string;
  /** RFC3339Nano. */
  readonly created: string;
  readonly command: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: readonly string[];
  readonly daemonName: string;
  readonly hostname: string;
}

/** One line of output, without its newline (or a piece of a line longer than the cap). */
export interface LogMessage {
  readonly stream: 'stdout' | 'stderr';
  readonly time: Instant;
  readonly line: Buffer;
}

/** A connection to a receiver. One per container; used by one shipper at a time. */
export interface LogSink {
  /** Opens the connection if it is not open (the start-time check of blocking mode). */
  connect(): Promise<void>;
  /**
   * Delivers messages in order; resolves once the receiver has them (or the kernel, without acks).
   * `batch` names the batch by where it lies in the log: a resend of the same lines (after a
   * failed write, or by the next berthd after a crash) carries the same name.
   */
  write(messages: readonly LogMessage[], batch: string): Promise<void>;
  /**
   * The receiver sees batch names (fluentd's chunk ids with acks): the shipper then records each
   * batch's extent before sending it, so a berthd restarted mid-batch resends exactly that batch.
   */
  readonly namesBatches?: boolean;
  /** Drops the connection after an error; the next write reconnects. */
  reset(): void;
  close(): void;
}

/** Validated options of one container, and a factory for its sink. */
export interface DriverSpec {
  readonly name: string;
  /** Options the driver takes beyond the common ones (see options.ts). */
  readonly opts: readonly string[];
  /** A remote driver: checks its options (throwing a 400-class error) and builds a sink. */
  readonly remote?: {
    validate(opts: Readonly<Record<string, string>>): void;
    open(info: ContainerLogInfo, opts: Readonly<Record<string, string>>, deps: SinkDeps): LogSink;
  };
}

export interface SinkDeps {
  /** Sends one datagram to a unix datagram socket (the native relay; Node's dgram has none). */
  readonly sendUnixgram?: (path: string, data: Buffer) => Promise<void>;
  /** The journal's socket (tests point it elsewhere). */
  readonly journalSocket: string;
}
