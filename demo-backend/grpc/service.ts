// The gRPC demo service (demo.proto) and grpc.health.v1, over the backend's shared state: replies name the replica,
// every call is counted on arrival in /admin/stats and answered per the live fault settings, and health answers
// SERVING once the ready delay has passed, as /readyz does.
import {
  Metadata,
  Server,
  status as Status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { httpEquivalent } from '../../proxy/core/grpc.js';
import type { BackendContext } from '../context.js';
import { callVerdict, type ServerSurfaceCall } from './call-faults.js';
import { DEMO_SERVICE, demoPackage, HEALTH_SERVICE, type EchoReply, type EchoRequest, type StreamRequest } from './protos.js';

const MAX_STREAM_REPLIES = 10_000;
const MAX_INTERVAL_MS = 60_000;

/** A grpc-js server with both services; the caller feeds it connections (see grpc-listener.ts). */
export function demoGrpcServer(ctx: BackendContext): Server {
  const server = new Server();
  const pkg = demoPackage();
  server.addService(pkg[DEMO_SERVICE] as ServiceDefinition, demoHandlers(ctx));
  server.addService(pkg[HEALTH_SERVICE] as ServiceDefinition, {
    Check: (call: ServerUnaryCall<{ service: string }, unknown>, callback: sendUnaryData<unknown>) => {
      const { service } = call.request;
      if (service !== '' && service !== DEMO_SERVICE) {
        callback({ code: Status.NOT_FOUND, details: `unknown service "${service}"` });
        return;
      }
      callback(null, { status: Date.now() >= ctx.readyAt ? 'SERVING' : 'NOT_SERVING' });
    },
  });
  return server;
}

/** Counts a call on arrival and records its status once, when it ends either way. */
function trackCall(ctx: BackendContext, method: string, call: ServerSurfaceCall): (code: Status) => void {
  const route = `/${DEMO_SERVICE}/${method}`;
  const startedAt = performance.now();
  ctx.stats.arrived(`POST ${route}`);
  let ended = false;
  const end = (code: Status) => {
    if (ended) return;
    ended = true;
    ctx.stats.closed();
    ctx.metrics.observeResponse(route, httpEquivalent(code), (performance.now() - startedAt) / 1000);
  };
  call.once('cancelled', () => end(Status.CANCELLED));
  return end;
}

function replicaMetadata(ctx: BackendContext): Metadata {
  const metadata = new Metadata();
  metadata.set('x-backend-replica', ctx.replica.name);
  return metadata;
}

function injectedFailure(ctx: BackendContext) {
  return { code: Status.UNAVAILABLE, details: `injected failure (${ctx.replica.name})`, metadata: replicaMetadata(ctx) };
}

function reply(ctx: BackendContext, message: string, sequence: number, payload?: Buffer): EchoReply {
  return { message, replica: ctx.replica.name, sequence, ...(payload?.length ? { payload } : {}) };
}

/**
 * Applies the fault knobs before the first reply; true when the call may go on. A failed call is answered here, a
 * hung one is left unanswered (its connection stays open) until the caller gives up.
 */
async function admitted(ctx: BackendContext, call: ServerSurfaceCall, fail: (error: ReturnType<typeof injectedFailure>) => void, end: (code: Status) => void): Promise<boolean> {
  const verdict = await callVerdict(ctx.faults, call);
  if (verdict === 'fail') {
    fail(injectedFailure(ctx));
    end(Status.UNAVAILABLE);
  }
  return verdict === 'answer';
}

function demoHandlers(ctx: BackendContext): UntypedServiceImplementation {
  return {
    Unary: async (call: ServerUnaryCall<EchoRequest, EchoReply>, callback: sendUnaryData<EchoReply>) => {
      const end = trackCall(ctx, 'Unary', call);
      if (!(await admitted(ctx, call, (error) => callback(error), end))) return;
      call.sendMetadata(replicaMetadata(ctx));
      callback(null, reply(ctx, call.request.message ?? '', 0, call.request.payload));
      end(Status.OK);
    },

    ServerStream: async (call: ServerWritableStream<StreamRequest, EchoReply>) => {
      const end = trackCall(ctx, 'ServerStream', call);
      if (!(await admitted(ctx, call, (error) => call.emit('error', error), end))) return;
      const count = Math.min(call.request.count ?? 0, MAX_STREAM_REPLIES);
      const intervalMs = Math.min(call.request.intervalMs ?? 0, MAX_INTERVAL_MS);
      call.sendMetadata(replicaMetadata(ctx));
      for (let sequence = 0; sequence < count && !call.cancelled; sequence++) {
        if (sequence > 0 && intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
        if (!call.cancelled) call.write(reply(ctx, call.request.message ?? '', sequence));
      }
      if (call.cancelled) return;
      call.end();
      end(Status.OK);
    },

    ClientStream: async (call: ServerReadableStream<EchoRequest, EchoReply>, callback: sendUnaryData<EchoReply>) => {
      const end = trackCall(ctx, 'ClientStream', call);
      if (!(await admitted(ctx, call, (error) => callback(error), end))) return;
      let received = 0;
      let bytes = 0;
      call.on('data', (request: EchoRequest) => {
        received += 1;
        bytes += request.payload?.length ?? 0;
      });
      call.on('end', () => {
        call.sendMetadata(replicaMetadata(ctx));
        callback(null, reply(ctx, `received ${received} messages, ${bytes} payload bytes`, received));
        end(Status.OK);
      });
    },

    Bidi: async (call: ServerDuplexStream<EchoRequest, EchoReply>) => {
      const end = trackCall(ctx, 'Bidi', call);
      if (!(await admitted(ctx, call, (error) => call.emit('error', error), end))) return;
      call.sendMetadata(replicaMetadata(ctx));
      let sequence = 0;
      call.on('data', (request: EchoRequest) => call.write(reply(ctx, request.message ?? '', sequence++, request.payload)));
      call.on('end', () => {
        call.end();
        end(Status.OK);
      });
    },
  };
}
