// RuntimeService handlers served today: Version, Status and RuntimeConfig. Sandboxes, CNI,
// containers and streaming come next (they answer UNIMPLEMENTED meanwhile). NetworkReady comes
// from the pod network (cni/network.ts): the kubelet schedules no pod while it is false.
import { BERTH_VERSION } from '../base/version.ts';
import type { Handlers } from './server.ts';

export interface NetworkCondition {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
}

export function runtimeHandlers(
  network: () => Promise<NetworkCondition> = async () => ({
    ready: false,
    reason: 'NetworkPluginNotReady',
    message: 'no pod network is configured',
  }),
): Handlers {
  return {
    Version: async () => ({
      version: '0.1.0',
      runtime_name: 'berth',
      runtime_version: BERTH_VERSION,
      runtime_api_version: 'v1',
    }),
    Status: async () => {
      const net = await network();
      return {
        status: {
          conditions: [
            { type: 'RuntimeReady', status: true, reason: '', message: '' },
            { type: 'NetworkReady', status: net.ready, reason: net.reason, message: net.message },
          ],
        },
        info: {},
      };
    },
    RuntimeConfig: async () => ({ linux: { cgroup_driver: 'CGROUPFS' } }),
  };
}
