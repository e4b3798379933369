import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { HttpError, requiredIntegerParam } from '../http-error.js';

const CHUNK_BYTES = 64 * 1024;
const MAX_BLOB_BYTES = 1024 ** 3;
const MAX_ECHO_BYTES = 100 * 1024 ** 2;
// Never mutated, so every response can stream slices of the same buffer.
const FILLER = Buffer.alloc(CHUNK_BYTES, 'breakwater ');

function* blobChunks(totalBytes: number): Generator<Buffer> {
  for (let sent = 0; sent < totalBytes; sent += CHUNK_BYTES) {
    yield FILLER.subarray(0, Math.min(CHUNK_BYTES, totalBytes - sent));
  }
}

/** Large and streamed bodies, for testing the proxy's pass-through. */
export async function registerStreamRoutes(app: FastifyInstance): Promise<void> {
  // Echo takes any content type, unparsed: the handler streams the body itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.get<{ Querystring: Record<string, string | undefined> }>('/api/blob', async (request, reply) => {
    const bytes = requiredIntegerParam(request.query, 'bytes', { min: 0, max: MAX_BLOB_BYTES });
    // No content-length: the body goes out chunked.
    return reply.type('application/octet-stream').send(Readable.from(blobChunks(bytes), { objectMode: false }));
  });

  app.post('/api/echo', async (request) => {
    const hash = createHash('sha256');
    let bodyBytes = 0;
    for await (const chunk of request.raw as AsyncIterable<Buffer>) {
      bodyBytes += chunk.length;
      if (bodyBytes > MAX_ECHO_BYTES) throw new HttpError(413, `request body exceeds ${MAX_ECHO_BYTES} bytes`);
      hash.update(chunk);
    }
    return {
      method: request.method,
      url: request.url,
      headers: request.headers,
      bodyBytes,
      bodySha256: hash.digest('hex'),
    };
  });
}
