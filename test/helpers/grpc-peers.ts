/**
 * Real @grpc/grpc-js peers for tests: Demo servers (demo-backend/grpc/demo.proto) on OS-assigned loopback ports whose
 * methods each test scripts, recording every call they take, and clients for them or for Breakwater's listener.
 */
import * as grpc from '@grpc/grpc-js';
import { demoPackage, type EchoReply, type EchoRequest } from '../../demo-backend/grpc/protos.js';

const loaded = grpc.loadPackageDefinition(demoPackage()) as unknown as {
  breakwater: { demo: { Demo: grpc.ServiceClientConstructor } };
};
const Demo = loaded.breakwater.demo.Demo;

export type { EchoReply, EchoRequest };

/** What a test scripts; a method left out answers as an echo server would. */
export type DemoHandlers = Partial<{
  unary: grpc.handleUnaryCall<EchoRequest, EchoReply>;
  serverStream: grpc.handleServerStreamingCall<{ message: string; count: number; intervalMs: number }, EchoReply>;
  clientStream: grpc.handleClientStreamingCall<EchoRequest, EchoReply>;
  bidi: grpc.handleBidiStreamingCall<EchoRequest, EchoReply>;
}>;

export interface DemoPeer {
  name: string;
  /** host:port */
  address: string;
  /** Every call's method and the metadata it arrived with, in order. */
  calls: Array<{ method: string; metadata: grpc.Metadata; deadline?: grpc.Deadline }>;
  close(): Promise<void>;
}

/** Starts a Demo server; `credentials` for a TLS one (an h2 upstream). */
export async function startDemoServer(name: string, handlers: DemoHandlers = {}, credentials = grpc.ServerCredentials.createInsecure()): Promise<DemoPeer> {
  const server = new grpc.Server();
  const calls: DemoPeer['calls'] = [];
  const record = (method: string, call: { metadata: grpc.Metadata; getDeadline(): grpc.Deadline }) =>
    calls.push({ method, metadata: call.metadata, deadline: call.getDeadline() });
  server.addService(Demo.service, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      record('Unary', call);
      if (handlers.unary) return handlers.unary(call, callback);
      callback(null, { message: call.request.message ?? '', replica: name, sequence: 0 });
    },
    ServerStream: (call: grpc.ServerWritableStream<{ message: string; count: number; intervalMs: number }, EchoReply>) => {
      record('ServerStream', call);
      if (handlers.serverStream) return handlers.serverStream(call);
      for (let i = 0; i < call.request.count; i++) call.write({ message: call.request.message, replica: name, sequence: i });
      call.end();
    },
    ClientStream: (call: grpc.ServerReadableStream<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      record('ClientStream', call);
      if (handlers.clientStream) return handlers.clientStream(call, callback);
      const messages: string[] = [];
      call.on('data', (m: EchoRequest) => messages.push(m.message ?? ''));
      call.on('end', () => callback(null, { message: messages.join(','), replica: name, sequence: messages.length }));
    },
    Bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) => {
      record('Bidi', call);
      if (handlers.bidi) return handlers.bidi(call);
      let sequence = 0;
      call.on('data', (m: EchoRequest) => call.write({ message: m.message ?? '', replica: name, sequence: sequence++ }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    name,
    address: `127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

export type DemoClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** A plain client (no retries of its own) to `address` over h2c. */
export function demoClient(address: string): DemoClient {
  return new Demo(address.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure()) as unknown as DemoClient;
}

export interface UnaryResult {
  error: grpc.ServiceError | null;
  reply: EchoReply | undefined;
  /** Response headers (initial metadata). */
  headers: grpc.Metadata | undefined;
  /** Trailers (the status's metadata). */
  trailers: grpc.Metadata | undefined;
}

/** One Unary call, never rejecting: its error, reply, headers and trailers. */
export function callUnary(client: DemoClient, request: EchoRequest, options: { deadlineMs?: number; metadata?: grpc.Metadata } = {}): Promise<UnaryResult> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    let trailers: grpc.Metadata | undefined;
    let outcome: Pick<UnaryResult, 'error' | 'reply'> | undefined;
    let statusSeen = false;
    const settle = () => {
      if (outcome && statusSeen) resolve({ ...outcome, headers, trailers });
    };
    const callOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
    const call = (client.Unary as (...a: unknown[]) => grpc.ClientUnaryCall)(
      request,
      options.metadata ?? new grpc.Metadata(),
      callOptions,
      (error: grpc.ServiceError | null, reply?: EchoReply) => {
        outcome = { error, reply };
        settle();
      },
    );
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
    call.on('status', (s: grpc.StatusObject) => {
      trailers = s.metadata;
      statusSeen = true;
      settle();
    });
  });
}

export { grpc };
