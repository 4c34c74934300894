// A private berthd serving the CRI on its own socket, and a grpc client built from the same
// proto as the server (src/cri/api-proto.gen.ts), with promisified unary calls.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { criPackage, type Msg } from '../../src/cri/server.ts';
import { startTestDaemon, type TestDaemon } from './daemon.ts';

export type CriCall = (method: string, req?: Msg) => Promise<Msg>;

export interface CriDaemon {
  /** The current berthd (replaced by restart). */
  readonly d: TestDaemon;
  readonly socket: string;
  readonly runtime: CriCall;
  readonly image: CriCall;
  /** The RuntimeService client itself, for streaming calls (GetContainerEvents). */
  readonly runtimeClient: grpc.Client;
  /** A new berthd on the same data root and CRI socket (after d.stop() or d.kill9()). */
  restart(opts?: { env?: Record<string, string> }): Promise<void>;
  cleanup(): Promise<void>;
}

function caller(client: grpc.Client): CriCall {
  return (method, req = {}) =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, unknown>)[method];
      if (typeof fn !== 'function') return reject(new Error(`no CRI method ${method}`));
      // Bounded, so a call that never answers fails the test with its name instead of hanging it.
      const deadline = Date.now() + 60_000;
      fn.call(client, req, { deadline }, (err: grpc.ServiceError | null, res: Msg) =>
        err ? reject(Object.assign(err, { message: `${method}: ${err.message}` })) : resolve(res),
      );
    });
}

/** `config`: more daemon.json keys (e.g. cni-conf-dir); the CNI folder defaults to none at all. */
export async function startCriDaemon(opts: { config?: Record<string, unknown> } = {}): Promise<CriDaemon> {
  const sockDir = mkdtempSync(path.join(os.tmpdir(), 'berth-cri-'));
  const socket = path.join(sockDir, 'cri.sock');
  let d: TestDaemon;
  try {
    d = await startTestDaemon({
      config: {
        'cri-socket': `unix://${socket}`,
        // Not the host's /etc/cni/net.d: a test daemon sees only the CNI config its test wrote.
        'cni-conf-dir': path.join(sockDir, 'no-cni-config'),
        ...opts.config,
      },
    });
  } catch (err) {
    rmSync(sockDir, { recursive: true, force: true });
    throw err;
  }
  const v1 = (criPackage().runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const mk = (name: string) =>
    new (v1[name] as grpc.ServiceClientConstructor)(`unix://${socket}`, grpc.credentials.createInsecure());
  const rt = mk('RuntimeService');
  const im = mk('ImageService');
  // berthd answers /_ping before the CRI socket is bound (it starts after the Docker API's
  // listeners): wait (bounded) until both channels connect, or the first call may find no socket.
  const ready = () => {
    const deadline = Date.now() + 10_000;
    return Promise.all(
      [rt, im].map(
        (c) => new Promise<void>((res, rej) => c.waitForReady(deadline, (err) => (err ? rej(err) : res()))),
      ),
    );
  };
  try {
    await ready();
  } catch (err) {
    rt.close();
    im.close();
    await d.cleanup();
    rmSync(sockDir, { recursive: true, force: true });
    throw err;
  }
  return {
    get d() {
      return d;
    },
    socket,
    runtime: caller(rt),
    runtimeClient: rt,
    image: caller(im),
    restart: async (opts = {}) => {
      d = await d.restart(opts);
      // The channels saw the socket go away: wait until both reconnect.
      await ready();
    },
    cleanup: async () => {
      rt.close();
      im.close();
      await d.cleanup();
      rmSync(sockDir, { recursive: true, force: true });
    },
  };
}
