import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { RequestBody } from '../policies/exchange.js';

const NONE: RequestBody = { kind: 'none' };

/**
 * Reads a request body up to `limit` bytes into memory so a retry can send it again. A larger body (by its
 * Content-Length, or once it grows past the limit) is streamed instead: what was read so far, then the rest.
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<RequestBody> | RequestBody {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return NONE;
  if (length !== undefined && Number(length) > limit) return { kind: 'stream', stream: req };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        req.pause();
        detach();
        resolve({ kind: 'stream', stream: Readable.from(concat(chunks, req), { objectMode: false }) });
      }
    };
    const onEnd = () => {
      detach();
      // Kept as they arrived, not copied into one buffer, when the Content-Length tells undici their length; a
      // chunked body is joined, so it goes upstream with a Content-Length as it would from a buffer.
      const kept = chunks.length === 1 || (length !== undefined && size > 0) ? chunks : [Buffer.concat(chunks, size)];
      resolve({ kind: 'buffered', chunks: kept });
    };
    const onError = (err: Error) => {
      detach();
      reject(err);
    };
    const onClose = () => {
      if (!req.complete) onError(new Error('the client closed the connection before sending the whole body'));
    };
    const detach = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

async function* concat(head: Buffer[], rest: IncomingMessage): AsyncIterable<Buffer> {
  yield* head;
  for await (const chunk of rest) yield chunk as Buffer;
}
