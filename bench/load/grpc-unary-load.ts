// Closed-loop gRPC load with @grpc/grpc-js: `connections` channels (each its own HTTP/2 connection), `streams` unary
// calls of Demo.Unary in flight on each, for `durationS` and at most MAX_CALLS calls, every call with a deadline.
// Latency is each call's, from the call to its status, exact at microsecond resolution; a status other than OK counts
// as a failure (in `non2xx`, the field the other generators count answers that were no success in).
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { demoMethod, type EchoRequest } from '../../demo-backend/grpc/protos.js';
import { LatencyRecorder, nowUs } from './latency-recorder.js';
import type { ClosedLoopSpec, LoadResult } from './load-types.js';

/** A bound on the calls of one window besides its duration: memory for the samples, and a runaway loop's end. */
const MAX_CALLS = 2_000_000;
const CALL_DEADLINE_MS = 5000;
const READY_TIMEOUT_MS = 5000;
const REQUEST: EchoRequest = { message: 'bench' };


/** The host:port a gRPC channel dials, from the target's base URL. */
const channelTarget = (url: string): string => new URL(url).host;

/** `count` clients on channels of their own, connected: a window measures calls, not connection setup. */
async function connectedClients(url: string, count: number): Promise<Client[]> {
  // A local subchannel pool per client: grpc-js would otherwise share one connection among clients of one target.
  const clients = Array.from({ length: count }, () =>
    new Client(channelTarget(url), credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    await Promise.all(clients.map((client) => new Promise<void>((resolve, reject) =>
      client.waitForReady(deadline, (error) => (error ? reject(new Error(`gRPC channel to ${url} not ready: ${error.message}`)) : resolve())))));
  } catch (error) {
    for (const client of clients) client.close();
    throw error;
  }
  return clients;
}

export async function grpcUnaryLoad(spec: ClosedLoopSpec): Promise<LoadResult> {
  const clients = await connectedClients(spec.url, spec.connections);
  const recorder = new LatencyRecorder(MAX_CALLS);
  let failed = 0;
  const start = nowUs();
  const end = start + spec.durationS * 1e6;
  const unary = demoMethod('Unary');
  const call = (client: Client): Promise<boolean> =>
    new Promise((resolve) => {
      client.makeUnaryRequest(unary.path, unary.requestSerialize, unary.responseDeserialize, REQUEST, new Metadata(),
        { deadline: Date.now() + CALL_DEADLINE_MS }, (error) => resolve(error === null));
    });
  const caller = async (client: Client): Promise<void> => {
    for (let sentAt = nowUs(); sentAt < end; sentAt = nowUs()) {
      const ok = await call(client);
      if (!ok) failed++;
      if (!recorder.record(nowUs() - sentAt)) break;
    }
  };
  try {
    await Promise.all(clients.flatMap((client) => Array.from({ length: spec.streams ?? 1 }, () => caller(client))));
  } finally {
    for (const client of clients) client.close();
  }
  return recorder.result('grpc-js', start, { non2xx: failed, socketErrors: 0 });
}
