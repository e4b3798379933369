import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { RequestBody } from '../policies/exchange.js';

const NONE: RequestBody = { kind: 'none' };
/** A 64 KiB body arrives in one to three socket reads over loopback. */
const MAX_KEPT_CHUNKS = 8;

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
      // Kept as they arrived, not copied, unless there are many: a body trickled in would hold a Buffer per read and
      // go upstream a write per piece, at every attempt.
      resolve({ kind: 'buffered', chunks: chunks.length <= MAX_KEPT_CHUNKS ? chunks : [Buffer.concat(chunks, size)] });
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
