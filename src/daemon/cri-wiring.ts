// Wires the CRI front end (src/cri) to the same services the Docker API uses: the one image
// store, the registry client behind `docker pull`, and the container users that veto a delete.
import path from 'node:path';
import { diskUsage } from '../cri/disk-usage.ts';
import { type CriImageBackend, imageHandlers } from '../cri/images.ts';
import { CniNetwork, podNetworkArgs } from '../cri/cni/index.ts';
import { runtimeHandlers } from '../cri/runtime.ts';
import { SandboxService, sandboxHandlers } from '../cri/sandboxes.ts';
import { type ContainerRuntime, CriContainers } from '../cri/containers.ts';
import { containerHandlers } from '../cri/container-handlers.ts';
import { statsHandlers } from '../cri/container-stats.ts';
import { CriContainerStore } from '../cri/container-store.ts';
import type { LayerSnapshots } from '../snapshots/index.ts';
import { SandboxStore } from '../cri/sandbox-store.ts';
import type { Log } from '../base/log.ts';
import { createLoopbackNetns, deleteNetns } from '../network/index.ts';
import { startCriServer } from '../cri/server.ts';
import { podStreamingBackend } from '../cri/streaming/pod-backend.ts';
import { StreamingServer } from '../cri/streaming/server.ts';
import { deleteImage, type ImageService, type ImageUsers } from '../images/index.ts';
import { type Digest, digestHex } from '../oci/digest.ts';
import type { Credentials } from '../registry/index.ts';

export interface CriWiring {
  readonly socket: string;
  readonly dataRoot: string;
  readonly images: ImageService;
  /** The Docker API's pull (events, distribution metadata, mirrors), for one reference. */
  readonly pull: (ref: string, auth: Credentials | undefined, signal: AbortSignal) => Promise<Digest>;
  readonly imageUsers: ImageUsers;
  /** The OCI runtime driver Docker containers use (conmon + runc). */
  readonly runtime: ContainerRuntime;
  /** The image layer snapshots CRI containers' rootfs sit on, as Docker containers' do. */
  readonly layers: LayerSnapshots;
  readonly execRoot: string;
  readonly cgroupParent: string;
  /** The CNI config folder and plugin folders of pod networks. */
  readonly cniConfDir: string;
  readonly cniBinDirs: readonly string[];
  /** dist/berth-pause, if it was built. */
  readonly pauseBinary: string | undefined;
  /** host:port of the streaming server (Exec/Attach/PortForward URLs). */
  readonly streamingAddress: string;
  /** dist/berth-netns-dial, if it was built (PortForward into pod netns). */
  readonly netnsDialBinary: string | undefined;
  /** dist/berth-console-relay, if it was built (Exec with a terminal). */
  readonly consoleRelay: string | undefined;
  /** dist/berth-stdin-relay, if it was built (Attach stdin). */
  readonly stdinRelay: string | undefined;
  readonly log: Log;
}

/** Starts the CRI endpoint; resolves to its close function. */
export async function startCri(w: CriWiring): Promise<() => Promise<void>> {
  // Late-bound: images, sandboxes and containers call each other (a pod's stop ends its
  // containers, a container joins its pod, an image in use is kept).
  let containers: CriContainers | undefined;
  const images: CriImageBackend = {
    list: () => w.images.list(),
    find: async (ref) => {
      const found = w.images.tryResolve(ref);
      return found ? w.images.view(found.id) : undefined;
    },
    pull: (ref, auth, signal) => w.pull(ref, auth, signal),
    // Forced, as containerd removes an image with every name; a running Docker container's
    // image still cannot go (Docker's rule), and stopped ones keep theirs untagged.
    remove: async (id) => {
      // CRI containers count as users too.
      const users: ImageUsers = (img) => [...w.imageUsers(img), ...(containers?.usersOf(img) ?? [])];
      await deleteImage(w.images, id, { force: true, users });
    },
    fsUsage: async () => {
      // The extracted layers (the snapshotter root, as containerd reports) and the blobs
      // they came from: both are image data on the data root.
      const layers = path.join(w.dataRoot, 'layers');
      const u = await diskUsage([layers, path.join(w.dataRoot, 'blobs')]);
      return { mountpoint: layers, usedBytes: u.bytes, inodesUsed: u.inodes };
    },
  };
  const sandboxStore = await SandboxStore.open(path.join(w.dataRoot, 'cri', 'sandboxes'));
  const cni = new CniNetwork({
    confDir: w.cniConfDir,
    binDirs: w.cniBinDirs,
    cacheDir: path.join(w.dataRoot, 'cri', 'cni-cache'),
    log: w.log,
  });
  const sandboxes = new SandboxService({
    store: sandboxStore,
    runtime: w.runtime,
    netns: { create: createLoopbackNetns, remove: deleteNetns },
    netnsDir: path.join(w.execRoot, 'cri-netns'),
    shmDir: path.join(w.execRoot, 'cri-shm'),
    network: {
      validate: (config) => void podNetworkArgs('', config),
      setup: async (id, netns, config) => (await cni.setup(id, netns, podNetworkArgs(id, config)))?.ips,
      teardown: (id) => cni.teardown(id),
      pending: () => cni.pending(),
    },
    cgroupParent: w.cgroupParent,
    pauseBinary: w.pauseBinary,
    log: w.log,
    stopContainersOf: (id) => containers?.stopAllOf(id) ?? Promise.resolve(),
    removeContainersOf: (id) => containers?.removeAllOf(id) ?? Promise.resolve(),
  });
  await sandboxes.recover();
  const criContainers = new CriContainers({
    store: await CriContainerStore.open(path.join(w.dataRoot, 'cri', 'containers')),
    runtime: w.runtime,
    images: {
      find: images.find,
      lowerDirs: async (view) => {
        const top = view.chain.at(-1);
        return top ? w.layers.lowerDirs(digestHex(top)) : [];
      },
      layersRoot: path.join(w.dataRoot, 'layers'),
    },
    pod: (id) => {
      const p = sandboxes.pod(id);
      if (!p) return undefined;
      return {
        record: p.record,
        etcFiles: [
          ['/etc/hostname', p.files.hostname],
          ['/etc/hosts', p.files.hosts],
          ['/etc/resolv.conf', p.files.resolvConf],
        ],
        ...(p.record.shm ? { shm: p.record.shm } : {}),
      };
    },
    log: w.log,
  });
  containers = criContainers;
  await criContainers.recover();
  const streaming = await StreamingServer.start({
    address: w.streamingAddress,
    log: w.log,
    backend: podStreamingBackend({
      sandboxes,
      containers: criContainers,
      netnsDialBinary: w.netnsDialBinary,
      consoleRelay: w.consoleRelay,
      stdinRelay: w.stdinRelay,
    }),
  });
  const close = await startCriServer({
    socket: w.socket,
    runtime: {
      ...runtimeHandlers(() => cni.condition()),
      ...sandboxHandlers(sandboxes),
      ...containerHandlers(criContainers, (id) =>
        sandboxes.status(id, false).then(
          (r) => r.status,
          () => null,
        ),
      ),
      ...statsHandlers(criContainers, sandboxStore),
      ...streaming.handlers(),
    },
    image: imageHandlers(images),
  });
  return async () => {
    criContainers.close();
    await close();
    await streaming.close();
  };
}
