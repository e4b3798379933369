/**
 * A real @grpc/grpc-js client for the gRPC demo service (demo-backend/grpc/demo.proto) and grpc.health.v1: each call
 * resolves with its status code, replies and metadata instead of throwing, bounded by a deadline (default 5 s).
 */
import { Client, credentials, Metadata, type ClientReadableStream, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { demoMethod, demoPackage, HEALTH_SERVICE, type EchoReply, type EchoRequest, type StreamRequest } from '../../demo-backend/grpc/protos.js';
import type { MethodDefinition } from '@grpc/proto-loader';

export type { EchoReply };

export interface CallResult {
  code: number;
  details: string;
  replies: EchoReply[];
  /** Initial metadata and trailers together. */
  metadata: Metadata;
}

/** Its own connection, no retries: what a test needs to see exactly what one server says. */
export function demoClient(address: string): Client {
  return new Client(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_retries': 0 });
}

const deadline = (ms: number) => ({ deadline: Date.now() + ms });

type UnaryCall = ReturnType<Client['makeUnaryRequest']>;

/** Streams also deliver replies as 'data' and fail with 'error' (the status below says it). */
function settle(call: UnaryCall | ClientReadableStream<EchoReply> | ClientDuplexStream<EchoRequest, EchoReply>, replies: EchoReply[]): Promise<CallResult> {
  const metadata = new Metadata();
  call.on('metadata', (m: Metadata) => metadata.merge(m));
  if ('read' in call) {
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', () => undefined);
  }
  return new Promise((resolve) => call.on('status', (status: StatusObject) => {
    metadata.merge(status.metadata);
    resolve({ code: status.code, details: status.details, replies, metadata });
  }));
}

export function unary(client: Client, request: EchoRequest, deadlineMs = 5000): Promise<CallResult> {
  const m = demoMethod('Unary');
  const replies: EchoReply[] = [];
  const call = client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize as (b: Buffer) => EchoReply, request, new Metadata(), deadline(deadlineMs), (_e, reply) => {
    if (reply) replies.push(reply);
  });
  return settle(call, replies);
}

export function serverStream(client: Client, request: StreamRequest, deadlineMs = 5000): Promise<CallResult> {
  const m = demoMethod('ServerStream');
  return settle(client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize as (b: Buffer) => EchoReply, request, new Metadata(), deadline(deadlineMs)), []);
}

export function clientStream(client: Client, requests: EchoRequest[], deadlineMs = 5000): Promise<CallResult> {
  const m = demoMethod('ClientStream');
  const replies: EchoReply[] = [];
  const call = client.makeClientStreamRequest(m.path, m.requestSerialize, m.responseDeserialize as (b: Buffer) => EchoReply, new Metadata(), deadline(deadlineMs), (_e, reply) => {
    if (reply) replies.push(reply);
  });
  const done = settle(call, replies);
  for (const request of requests) call.write(request);
  call.end();
  return done;
}

export function bidi(client: Client, requests: EchoRequest[], deadlineMs = 5000): Promise<CallResult> {
  const m = demoMethod('Bidi');
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize as (b: Buffer) => EchoReply, new Metadata(), deadline(deadlineMs));
  const done = settle(call, []);
  for (const request of requests) call.write(request);
  call.end();
  return done;
}

/** grpc.health.v1.Health/Check: the serving status, or the call's failure code. */
export function healthCheck(client: Client, service = '', deadlineMs = 5000): Promise<{ code: number; status?: string }> {
  const m = (demoPackage()[HEALTH_SERVICE] as Record<string, MethodDefinition<object, { status: string }>>).Check!;
  return new Promise((resolve) => {
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, { service }, new Metadata(), deadline(deadlineMs), (error, reply) => {
      resolve(error ? { code: error.code } : { code: 0, status: reply!.status });
    });
  });
}
