// The RuntimeService container calls, dispatched to CriContainers (containers.ts) and the exec
// path (container-exec.ts).
import { execSync } from './container-exec.ts';
import type { CriContainers } from './containers.ts';
import type { Handlers } from './server.ts';

export function containerHandlers(c: CriContainers): Handlers {
  return {
    CreateContainer: async (req) => ({ container_id: await c.create(req) }),
    StartContainer: async (req) => {
      await c.start(String(req.container_id ?? ''));
      return {};
    },
    StopContainer: async (req) => {
      await c.stop(String(req.container_id ?? ''), Number(req.timeout ?? 0));
      return {};
    },
    RemoveContainer: async (req) => {
      await c.remove(String(req.container_id ?? ''));
      return {};
    },
    ContainerStatus: (req) => c.status(String(req.container_id ?? ''), req.verbose === true),
    ListContainers: async (req) => ({ containers: await c.list(req.filter) }),
    ReopenContainerLog: async (req) => {
      await c.reopenLog(String(req.container_id ?? ''));
      return {};
    },
    ExecSync: (req, ctx) =>
      execSync(
        c,
        String(req.container_id ?? ''),
        (req.cmd ?? []).map(String),
        Number(req.timeout ?? 0),
        ctx.signal,
      ),
  };
}
