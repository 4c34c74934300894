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
  /** A new berthd on the same data root and CRI socket (after d.stop() or d.kill9()). */
  restart(): Promise<void>;
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

export async function startCriDaemon(): Promise<CriDaemon> {
  const sockDir = mkdtempSync(path.join(os.tmpdir(), 'berth-cri-'));
  const socket = path.join(sockDir, 'cri.sock');
  let d: TestDaemon;
  try {
    d = await startTestDaemon({ config: { 'cri-socket': `unix://${socket}` } });
  } catch (err) {
    rmSync(sockDir, { recursive: true, force: true });
    throw err;
  }
  const v1 = (criPackage().runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const mk = (name: string) =>
    new (v1[name] as grpc.ServiceClientConstructor)(`unix://${socket}`, grpc.credentials.createInsecure());
  const rt = mk('RuntimeService');
  const im = mk('ImageService');
  return {
    get d() {
      return d;
    },
    socket,
    runtime: caller(rt),
    image: caller(im),
    restart: async () => {
      d = await d.restart();
      // The channels saw the socket go away: wait (bounded) until both reconnect.
      const deadline = Date.now() + 10_000;
      await Promise.all(
        [rt, im].map(
          (c) => new Promise<void>((res, rej) => c.waitForReady(deadline, (err) => (err ? rej(err) : res()))),
        ),
      );
    },
    cleanup: async () => {
      rt.close();
      im.close();
      await d.cleanup();
      rmSync(sockDir, { recursive: true, force: true });
    },
  };
}
