export { CniNetwork, type NetworkCondition, ipsOf } from './network.ts';
export { loadNetwork, parseNetwork } from './config.ts';
export { podNetworkArgs, portMappingsOf, type PortMapping } from './pod-args.ts';
