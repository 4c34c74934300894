export type { Attachment, CreateNetworkRequest, EndpointRequest, NetworkManagerOptions } from './manager.ts';
export { NetworkManager } from './manager.ts';
export type { Driver, Endpoint, NetworkRecord, PortBinding } from './store.ts';
export { NetworkStore } from './store.ts';
export { chainsFor, removeRules } from './bridge.ts';
export { createLoopbackNetns, deleteNetns } from './netns.ts';
