// The gRPC demo service's and the health service's definitions, loaded from their .proto files, which sit beside
// these sources (and beside the compiled code in the image): the backend, the load generator and the tests share
// this one reading.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type MethodDefinition, type PackageDefinition } from '@grpc/proto-loader';

/** The demo service's full name, and the path prefix of its methods on the wire. */
export const DEMO_SERVICE = 'breakwater.demo.Demo';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

export interface EchoRequest {
  message?: string;
  payload?: Buffer;
}

export interface StreamRequest {
  message?: string;
  count?: number;
  intervalMs?: number;
}

export interface EchoReply {
  message: string;
  replica: string;
  sequence: number;
  payload?: Buffer;
}

/** The folder of demo.proto: this module's own (the image), or demo-backend/grpc above it (sources, dist/). */
function protoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  if (existsSync(path.join(dir, 'demo.proto'))) return dir;
  for (;;) {
    const candidate = path.join(dir, 'demo-backend', 'grpc');
    if (existsSync(path.join(candidate, 'demo.proto'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('demo-backend/grpc/demo.proto not found above the gRPC demo code');
    dir = parent;
  }
}

let loaded: PackageDefinition | undefined;

/** Both services; field names in camelCase, enums as their names, 64-bit numbers as numbers, defaults filled in. */
export function demoPackage(): PackageDefinition {
  loaded ??= loadSync(['demo.proto', 'health.proto'], {
    includeDirs: [protoDir()],
    keepCase: false,
    enums: String,
    longs: Number,
    defaults: true,
  });
  return loaded;
}

/** One method's definition (serializers and streaming flags), e.g. demoMethod('Unary'). */
export function demoMethod(name: 'Unary' | 'ServerStream' | 'ClientStream' | 'Bidi'): MethodDefinition<object, object> {
  return (demoPackage()[DEMO_SERVICE] as Record<string, MethodDefinition<object, object>>)[name]!;
}
