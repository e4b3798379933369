// The gRPC demo service (demo-backend/grpc/demo.proto) as grpc-js sees it: the bench's gRPC upstream serves it and its
// gRPC load calls it, from the one proto the lab and the tests share.
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const DEMO_PROTO = fileURLToPath(new URL('../../../../demo-backend/grpc/demo.proto', import.meta.url));

/** The request and reply of Demo.Unary, as proto-loader decodes them (bytes as Buffers, defaults filled in). */
export interface EchoRequest {
  message: string;
  payload: Buffer;
}

export interface EchoReply {
  message: string;
  replica: string;
  sequence: number;
  payload: Buffer;
}

/** The client constructor of breakwater.demo.Demo; its `service` is the definition a server adds. */
export function demoService(): ServiceClientConstructor {
  const definition = loadSync(DEMO_PROTO, { keepCase: false, longs: Number, defaults: true });
  const demo = (loadPackageDefinition(definition).breakwater as { demo: { Demo: ServiceClientConstructor } }).demo;
  return demo.Demo;
}
