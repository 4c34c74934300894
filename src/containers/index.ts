export type { ContainerConfig, ContainerRecord, ContainerState, HostConfig } from './record.ts';
export { statusWord } from './record.ts';
export type { ContainerServiceDeps, CreateRequest, WaitCondition } from './service.ts';
export { ContainerService } from './service.ts';
export { parseSignal } from './signals.ts';
export { ContainerStore } from './store.ts';
export type { ExecConfig, ExecIo, ExecRecord } from './exec.ts';
export { ExecService } from './exec.ts';
