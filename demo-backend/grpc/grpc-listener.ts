// One port for both protocols, as a pod's one container port: a connection that opens with the HTTP/2 preface
// (what a gRPC client sends: h2c with prior knowledge) goes to the gRPC server, any other to the HTTP server.
// Everything that drives the HTTP demo (readiness, /admin/faults, /admin/stats, the chaos runner's relays and
// Service balancing) therefore works unchanged for the gRPC one.
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js';

const H2_PREFACE_START = Buffer.from('PRI * HTTP/2.0');

/** Routes `httpServer`'s connections by their first bytes; returns what shuts the gRPC side down. */
export function shareWithGrpc(httpServer: HttpServer, grpcServer: GrpcServer): () => void {
  const injector = grpcServer.createConnectionInjector(ServerCredentials.createInsecure());
  const httpListeners = httpServer.listeners('connection') as Array<(socket: Socket) => void>;
  httpServer.removeAllListeners('connection');
  httpServer.on('connection', (socket: Socket) => {
    let seen = Buffer.alloc(0);
    const onError = () => socket.destroy();
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const compared = Math.min(seen.length, H2_PREFACE_START.length);
      const isHttp2 = seen.subarray(0, compared).equals(H2_PREFACE_START.subarray(0, compared));
      if (isHttp2 && seen.length < H2_PREFACE_START.length) return; // not enough bytes to tell yet
      socket.off('data', onData);
      socket.off('error', onError);
      socket.pause();
      if (isHttp2) {
        socket.unshift(seen);
        injector.injectConnection(socket);
      } else {
        for (const listener of httpListeners) listener.call(httpServer, socket);
        socket.emit('data', seen);
      }
    };
    socket.on('error', onError);
    socket.on('data', onData);
  });
  return () => {
    injector.destroy();
    grpcServer.forceShutdown();
  };
}
