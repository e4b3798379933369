// The plain HTTP/2 upstream of the h2c comparison: cleartext HTTP/2 with prior knowledge (no TLS, no upgrade), every
// request answered 200 "ok" once its body is read. The stream API rather than the compatibility layer: the upstream
// should cost as little as it can, so that the proxies are what is measured.
import { createServer, constants } from 'node:http2';
import { once } from 'node:events';
import { announceListening } from './server-cli.js';

const BODY = Buffer.from('ok\n');
const RESPONSE_HEADERS = {
  [constants.HTTP2_HEADER_STATUS]: 200,
  [constants.HTTP2_HEADER_CONTENT_TYPE]: 'text/plain',
  [constants.HTTP2_HEADER_CONTENT_LENGTH]: BODY.length,
};

const server = createServer();
server.on('stream', (stream) => {
  stream.on('error', () => stream.destroy());
  stream.resume();
  stream.on('end', () => {
    if (stream.destroyed) return;
    stream.respond(RESPONSE_HEADERS);
    stream.end(BODY);
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
announceListening(server.address());
