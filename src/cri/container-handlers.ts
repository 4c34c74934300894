// The RuntimeService container calls, dispatched to CriContainers (containers.ts) and the exec
// path (container-exec.ts).
import { execSync } from './container-exec.ts';
import { containerStatus } from './container-status.ts';
import { type CriContainers, nowNs } from './containers.ts';
import type { Handlers, Msg } from './server.ts';

/** The pod's status for an event (null once the pod is gone). */
export type PodStatusOf = (sandboxId: string) => Promise<Msg | null>;

export function containerHandlers(c: CriContainers, podStatus: PodStatusOf): Handlers {
  return {
    // Lifecycle events as they happen, in order, each with the container's and its pod's status.
    GetContainerEvents: {
      stream: (_req, write, ctx) =>
        new Promise<void>((resolve) => {
          let chain = Promise.resolve();
          const off = c.onEvent((type, rec) => {
            const at = nowNs();
            chain = chain.then(async () => {
              if (ctx.signal.aborted) return;
              const [st, pod] = await Promise.all([
                containerStatus(c, rec).catch(() => null),
                podStatus(rec.sandboxId),
              ]);
              write({
                container_id: rec.id,
                container_event_type: type,
                created_at: at,
                pod_sandbox_status: pod,
                containers_statuses: st ? [st.status] : [],
              });
            });
          });
          ctx.signal.addEventListener('abort', () => {
            off();
            resolve();
          });
        }),
    },
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
