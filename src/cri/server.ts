// The CRI gRPC endpoint (k8s.io/cri-api runtime/v1): RuntimeService and ImageService on their
// own unix socket, beside the Docker API. Every method answers UNIMPLEMENTED until a handler is
// registered for it, so a kubelet or crictl gets a clear status instead of a hang.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { traceRequest } from '../base/trace.ts';
import { CRI_PROTO } from './api-proto.gen.ts';
import { grpcStatusOf } from './errors.ts';

// biome-ignore lint/suspicious/noExplicitAny: messages are plain objects shaped by the proto.
export type Msg = any;
/** Per call: aborted when the client cancels or its deadline passes. */
export interface CallContext {
  readonly signal: AbortSignal;
}
export type Handler = (req: Msg, ctx: CallContext) => Promise<Msg>;
/** A server-streaming call: writes messages until the client goes (ctx.signal) or it returns. */
export type StreamHandler = (req: Msg, write: (msg: Msg) => void, ctx: CallContext) => Promise<void>;
export type Handlers = Record<string, Handler | { readonly stream: StreamHandler }>;

/** The proto's package definition, for the server and for clients (tests, tools). */
export function criPackage(): grpc.GrpcObject {
  const root = protobuf.parse(CRI_PROTO, { keepCase: true }).root;
  const def = protoLoader.fromJSON(root.toJSON(), {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(def);
}

function serviceOf(pkg: grpc.GrpcObject, name: string): grpc.ServiceDefinition {
  const v1 = (pkg.runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
  return (v1[name] as grpc.ServiceClientConstructor).service;
}

const NOT_YET = 'is not implemented by berthd yet (planned: issue 19)';

function implement(def: grpc.ServiceDefinition, handlers: Handlers): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [method, d] of Object.entries(def)) {
    const h = handlers[method];
    if (d.responseStream) {
      impl[method] = (call: grpc.ServerWritableStream<Msg, Msg>) => {
        if (!h || typeof h === 'function')
          return call.destroy(
            Object.assign(new Error(`${method} ${NOT_YET}`), { code: grpc.status.UNIMPLEMENTED }),
          );
        const ac = new AbortController();
        call.once('cancelled', () => ac.abort(new Error(`${method} was cancelled by the client`)));
        h.stream(call.request, (msg) => call.write(msg), { signal: ac.signal }).then(
          () => call.end(),
          (err: Error) => call.destroy(Object.assign(err, { code: grpcStatusOf(err) })),
        );
      };
      continue;
    }
    impl[method] = (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      if (!h || typeof h !== 'function')
        return cb({ code: grpc.status.UNIMPLEMENTED, details: `${method} ${NOT_YET}` });
      const ac = new AbortController();
      call.once('cancelled', () => ac.abort(new Error(`${method} was cancelled by the client`)));
      // One trace record per call (berthd --trace), as for a Docker API request.
      const { result, end } = traceRequest(`CRI ${method}`, () => h(call.request, { signal: ac.signal }));
      result.then(
        (res) => {
          end();
          cb(null, res);
        },
        (err: Error) => {
          end();
          cb({ code: grpcStatusOf(err), details: err.message });
        },
      );
    };
  }
  return impl;
}

export interface CriServerOptions {
  /** `unix:///run/berth/cri.sock` or a bare path. */
  readonly socket: string;
  readonly runtime: Handlers;
  readonly image: Handlers;
}

/** Starts the endpoint; resolves to its close function. */
export async function startCriServer(opts: CriServerOptions): Promise<() => Promise<void>> {
  const sockPath = opts.socket.replace(/^unix:\/\//, '');
  if (!sockPath.startsWith('/'))
    throw new Error(
      `cri-socket "${opts.socket}" must be unix:///ABSOLUTE/PATH (the kubelet's endpoint form)`,
    );
  const pkg = criPackage();
  const server = new grpc.Server();
  server.addService(
    serviceOf(pkg, 'RuntimeService'),
    implement(serviceOf(pkg, 'RuntimeService'), opts.runtime),
  );
  server.addService(serviceOf(pkg, 'ImageService'), implement(serviceOf(pkg, 'ImageService'), opts.image));
  await fsp.mkdir(path.dirname(sockPath), { recursive: true });
  // A socket left by a killed berthd would make the bind fail.
  await fsp.rm(sockPath, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${sockPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(new Error(`cannot listen on CRI socket ${sockPath}: ${err.message}`)) : resolve(),
    ),
  );
  await fsp.chmod(sockPath, 0o660);
  return async () => {
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    await fsp.rm(sockPath, { force: true });
  };
}
