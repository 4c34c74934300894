// Wires the CRI front end (src/cri) to the same services the Docker API uses: the one image
// store, the registry client behind `docker pull`, and the container users that veto a delete.
import path from 'node:path';
import { diskUsage } from '../cri/disk-usage.ts';
import { type CriImageBackend, imageHandlers } from '../cri/images.ts';
import { runtimeHandlers } from '../cri/runtime.ts';
import { SandboxService, type SandboxRuntime, sandboxHandlers } from '../cri/sandboxes.ts';
import { SandboxStore } from '../cri/sandbox-store.ts';
import { status } from '@grpc/grpc-js';
import type { Log } from '../base/log.ts';
import { CriError } from '../cri/errors.ts';
import { createLoopbackNetns, deleteNetns } from '../network/index.ts';
import { startCriServer } from '../cri/server.ts';
import { dialHost, dialInNetns } from '../cri/streaming/netns-dial.ts';
import { StreamingServer } from '../cri/streaming/server.ts';
import { deleteImage, type ImageService, type ImageUsers } from '../images/index.ts';
import type { Digest } from '../oci/digest.ts';
import type { Credentials } from '../registry/index.ts';

export interface CriWiring {
  readonly socket: string;
  readonly dataRoot: string;
  readonly images: ImageService;
  /** The Docker API's pull (events, distribution metadata, mirrors), for one reference. */
  readonly pull: (ref: string, auth: Credentials | undefined, signal: AbortSignal) => Promise<Digest>;
  readonly imageUsers: ImageUsers;
  /** The OCI runtime driver Docker containers use (conmon + runc). */
  readonly runtime: SandboxRuntime;
  readonly execRoot: string;
  readonly cgroupParent: string;
  /** dist/berth-pause, if it was built. */
  readonly pauseBinary: string | undefined;
  /** host:port of the streaming server (Exec/Attach/PortForward URLs). */
  readonly streamingAddress: string;
  /** dist/berth-netns-dial, if it was built (PortForward into pod netns). */
  readonly netnsDialBinary: string | undefined;
  readonly log: Log;
}

/** Starts the CRI endpoint; resolves to its close function. */
export async function startCri(w: CriWiring): Promise<() => Promise<void>> {
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
      await deleteImage(w.images, id, { force: true, users: w.imageUsers });
    },
    fsUsage: async () => {
      // The extracted layers (the snapshotter root, as containerd reports) and the blobs
      // they came from: both are image data on the data root.
      const layers = path.join(w.dataRoot, 'layers');
      const u = await diskUsage([layers, path.join(w.dataRoot, 'blobs')]);
      return { mountpoint: layers, usedBytes: u.bytes, inodesUsed: u.inodes };
    },
  };
  const sandboxes = new SandboxService({
    store: await SandboxStore.open(path.join(w.dataRoot, 'cri', 'sandboxes')),
    runtime: w.runtime,
    netns: { create: createLoopbackNetns, remove: deleteNetns },
    netnsDir: path.join(w.execRoot, 'cri-netns'),
    cgroupParent: w.cgroupParent,
    pauseBinary: w.pauseBinary,
    log: w.log,
  });
  await sandboxes.recover();
  const streaming = await StreamingServer.start({
    address: w.streamingAddress,
    log: w.log,
    backend: {
      checkSandbox: async (ref) => {
        const t = await sandboxes.forwardTarget(ref);
        if (t.netns !== 'host' && !w.netnsDialBinary)
          throw new CriError(
            status.FAILED_PRECONDITION,
            'berth-netns-dial was not built beside berthd: install gcc and rebuild (npm run build)',
          );
        return t.id;
      },
      portForward: async (id, port, signal) => {
        // Read at each connection: the pod may have stopped since the URL was handed out.
        const t = await sandboxes.forwardTarget(id);
        if (t.netns === 'host') return dialHost(port, signal);
        if (!w.netnsDialBinary) throw new Error('berth-netns-dial was not built beside berthd');
        return dialInNetns(w.netnsDialBinary, t.netns, port, signal);
      },
    },
  });
  const closeGrpc = await startCriServer({
    socket: w.socket,
    runtime: { ...runtimeHandlers(), ...sandboxHandlers(sandboxes), ...streaming.handlers() },
    image: imageHandlers(images),
  });
  return async () => {
    await closeGrpc();
    await streaming.close();
  };
}
