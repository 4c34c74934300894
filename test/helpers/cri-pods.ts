// Pods and containers for CRI tests, made as the kubelet makes them: busybox pushed to a loopback
// berth-registry and pulled through PullImage (CreateContainer gets the image ID it returned),
// pods with their own cgroup parent below the test daemon's and a log directory.
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Msg } from '../../src/cri/server.ts';
import { type ServedRegistry, serveRegistry } from './berth-registry.ts';
import { type CriDaemon, startCriDaemon } from './cri.ts';
import { busyboxTar } from './fixtures.ts';

export interface Pod {
  readonly id: string;
  readonly config: Msg;
}

export interface CriPods {
  readonly cri: CriDaemon;
  readonly registry: ServedRegistry;
  /** What PullImage returned for `imageName`. */
  readonly imageId: string;
  readonly imageName: string;
  /** A folder for the test's files (removed by cleanup). */
  readonly tmp: string;
  runPod(pid?: 'POD' | 'CONTAINER', over?: Msg): Promise<Pod>;
  ctrConfig(name: string, command: string[], over?: Msg): Msg;
  /** CreateContainer + StartContainer. */
  runCtr(pod: Pod, config: Msg): Promise<string>;
  status(id: string): Promise<Msg>;
  /** The container's host pid (verbose status). */
  pidOf(id: string): Promise<number>;
  cleanup(): Promise<void>;
}

const ok = (r: { code: number; stdout: string; stderr: string }) => {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

export async function startCriPods(): Promise<CriPods> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-cri-ctr-'));
  const cri = await startCriDaemon();
  const cgParent = `/berth-test-${path.basename(cri.d.dir).replace(/^berth-test-/, '')}`;
  const registry = await serveRegistry(path.join(tmp, 'registry'));
  const imageName = `${registry.host}/cri/busybox:1`;
  ok(
    await cri.d.berth(['import', '-c', 'ENV FROM_IMAGE=yes', '-c', 'WORKDIR /home', busyboxTar(), imageName]),
  );
  const r = await cri.d.request('POST', `/images/${registry.host}/cri/busybox/push?tag=1`, '', {
    'X-Registry-Auth': Buffer.from('{}').toString('base64url'),
  });
  assert.equal(r.status, 200, r.body.toString());
  assert.doesNotMatch(r.body.toString(), /"error"/);
  ok(await cri.d.berth(['rmi', imageName]));
  const imageId = (await cri.image('PullImage', { image: { image: imageName } })).image_ref as string;
  const parents = new Set<string>();
  let seq = 0;
  const status = async (id: string) => (await cri.runtime('ContainerStatus', { container_id: id })).status;
  return {
    cri,
    registry,
    imageId,
    imageName,
    tmp,
    runPod: async (pid = 'CONTAINER', over = {}) => {
      seq++;
      const parent = `${cgParent}/kubepods/p${seq}`;
      parents.add(parent).add(`${cgParent}/kubepods`);
      const config = {
        metadata: { name: `pod-${seq}`, uid: `uid-${process.pid}-${seq}`, namespace: 'default', attempt: 0 },
        hostname: `pod-${seq}`,
        log_directory: path.join(tmp, 'logs', `pod-${seq}`),
        linux: {
          cgroup_parent: parent,
          security_context: { namespace_options: { network: 'POD', pid, ipc: 'POD' } },
        },
        ...over,
      };
      const { pod_sandbox_id } = await cri.runtime('RunPodSandbox', { config });
      return { id: pod_sandbox_id, config };
    },
    ctrConfig: (name, command, over = {}) => ({
      metadata: { name, attempt: 0 },
      image: { image: imageId },
      command,
      labels: { app: 'demo', name },
      annotations: { 'example.com/who': name },
      log_path: `${name}/0.log`,
      ...over,
    }),
    runCtr: async (pod, config) => {
      const { container_id } = await cri.runtime('CreateContainer', {
        pod_sandbox_id: pod.id,
        config,
        sandbox_config: pod.config,
      });
      assert.match(container_id, /^[a-f0-9]{64}$/);
      await cri.runtime('StartContainer', { container_id });
      return container_id;
    },
    status,
    pidOf: async (id) =>
      JSON.parse((await cri.runtime('ContainerStatus', { container_id: id, verbose: true })).info.info).pid,
    cleanup: async () => {
      await cri.cleanup();
      await registry.stop();
      for (const p of [...parents].sort((a, b) => b.length - a.length))
        for (const h of await fsp.readdir('/sys/fs/cgroup').catch(() => [] as string[]))
          await fsp.rmdir(path.join('/sys/fs/cgroup', h, p)).catch(() => {});
      await fsp.rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Retries `fn` (bounded) until it gives a value. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
