import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { RequestBody } from '../core/exchange.js';
import { clientGone } from '../core/proxy-error.js';
import type { RequestScope } from '../core/request-scope.js';
import type { ReplayMemory } from './replay-memory.js';

const NONE: RequestBody = { kind: 'none' };
/** A 64 KiB body arrives in one to three socket reads over loopback. */
const MAX_KEPT_CHUNKS = 8;

/**
 * Reads a request body up to `limit` bytes into memory so a retry can send it again, within the process-wide replay
 * memory. A larger body (by its Content-Length, or once it grows past the limit), or one that does not fit in what is
 * left of the replay memory, is streamed instead: what was read so far, then the rest. The bytes kept are the
 * scope's to release when the request ends; a client that leaves or a deadline that passes mid-upload ends the read
 * with the scope's reason.
 */
export function readRequestBody(req: IncomingMessage, limit: number, memory: ReplayMemory, scope: RequestScope): Promise<RequestBody> | RequestBody {
  if (!hasBody(req)) return NONE;
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > limit) return { kind: 'stream', stream: req, reason: 'too-large' };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stream = (reason: 'too-large' | 'memory') => {
      req.pause();
      detach();
      memory.release(size);
      resolve({ kind: 'stream', stream: Readable.from(concat(chunks, req), { objectMode: false }), reason });
    };
    const onData = (chunk: Buffer) => {
      if (!memory.tryReserve(chunk.length)) return void (chunks.push(chunk), stream('memory'));
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) stream('too-large');
    };
    const onEnd = () => {
      detach();
      try {
        scope.hold(() => memory.release(size));
      } catch (err) {
        return reject(err);
      }
      // Kept as they arrived, not copied, unless there are many: a body trickled in would hold a Buffer per read and
      // go upstream a write per piece, at every attempt.
      resolve({ kind: 'buffered', chunks: chunks.length <= MAX_KEPT_CHUNKS ? chunks : [Buffer.concat(chunks, size)] });
    };
    const fail = (err: Error) => {
      detach();
      memory.release(size);
      chunks.length = 0;
      reject(err);
    };
    // The client's connection failing mid-upload is the client leaving, not an error of the proxy's.
    const onError = () => fail(scope.reason ?? clientGone());
    const onClose = () => {
      if (!req.complete) onError();
    };
    const listener = { abort: fail };
    scope.onAbort(listener);
    const detach = () => {
      scope.offAbort(listener);
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

/**
 * Whether the request's framing announces a body: over HTTP/2, a HEADERS frame that did not end the stream; over
 * HTTP/1.1 (RFC 9112 6.3), chunked, or a Content-Length above 0.
 */
export function hasBody(req: IncomingMessage): boolean {
  const stream = (req as { stream?: { endAfterHeaders: boolean } }).stream;
  if (stream !== undefined) return !stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

async function* concat(head: Buffer[], rest: IncomingMessage): AsyncIterable<Buffer> {
  yield* head;
  for await (const chunk of rest) yield chunk as Buffer;
}
