// Container logs: the k8s-file format conmon writes, reading it with `docker logs` semantics,
// and Docker's stream framing for the API edge.
export {
  demux,
  type Frame,
  type FrameStream,
  formatTimestamp,
  frameHeader,
  muxFrame,
  type LogFraming,
  logFramingFor,
  MERGE_MAX,
  type MuxLogOptions,
  muxLogRecords,
} from './frames.ts';
export {
  compareInstants,
  type Instant,
  instantFromSeconds,
  K8sFileParser,
  type LogRecord,
  type LogStream,
  type ParserOptions,
  parseK8sFile,
  parseTimestamp,
  type RecordSink,
} from './k8s-file.ts';
export { checkReadLogsOptions, type ReadLogsOptions, readLogBatches, readLogs } from './reader.ts';
export { LogRotator, readRotatedBatches, rotatedFiles, shiftLogs } from './rotation.ts';
export { planLogging, type LogPlan, driverNames, parseSize } from './drivers/registry.ts';
export { extraAttributes } from './drivers/meta.ts';
export type { ContainerLogInfo, LogSink, SinkDeps } from './drivers/types.ts';
export { UnixgramRelay } from './drivers/unixgram.ts';
export { LogShipper, readCursor } from './shipper.ts';
export { compressRotated, type FinishedFiles, openLog } from './compress.ts';
