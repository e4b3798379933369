// The gRPC upstream of the gRPC comparison: Demo.Unary answered at once with a fixed reply (grpc-js answers the
// methods left out with UNIMPLEMENTED). A bench peer only; the gRPC lab's demo backend, with its fault knobs, is a
// separate program.
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import { DEMO_SERVICE, demoPackage, type EchoReply, type EchoRequest } from '../../../demo-backend/grpc/protos.js';
import { announceListening } from './server-cli.js';

function unary(call: ServerUnaryCall<EchoRequest, EchoReply>, callback: sendUnaryData<EchoReply>): void {
  callback(null, { message: call.request.message ?? '', replica: 'bench', sequence: 0 });
}

const server = new Server();
server.addService(demoPackage()[DEMO_SERVICE] as ServiceDefinition, { Unary: unary });
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  announceListening({ address: '127.0.0.1', port, family: 'IPv4' });
});
