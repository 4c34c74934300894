// RuntimeService handlers served today: Version, Status and RuntimeConfig. Sandboxes, CNI,
// containers and streaming come next (they answer UNIMPLEMENTED meanwhile).
import { BERTH_VERSION } from '../base/version.ts';
import type { Handlers } from './server.ts';

export function runtimeHandlers(): Handlers {
  return {
    Version: async () => ({
      version: '0.1.0',
      runtime_name: 'berth',
      runtime_version: BERTH_VERSION,
      runtime_api_version: 'v1',
    }),
    Status: async () => ({
      status: {
        conditions: [
          { type: 'RuntimeReady', status: true, reason: '', message: '' },
          // No pod networking yet: kubelet must not schedule pods here.
          {
            type: 'NetworkReady',
            status: false,
            reason: 'NetworkPluginNotReady',
            message: 'CNI sandboxes are not implemented yet',
          },
        ],
      },
      info: {},
    }),
    RuntimeConfig: async () => ({ linux: { cgroup_driver: 'CGROUPFS' } }),
  };
}
