import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { clientGone, ProxyError } from '../../../proxy/core/proxy-error.js';
import { RequestScope } from '../../../proxy/core/request-scope.js';
import { ReplayMemory } from '../../../proxy/server/replay-memory.js';
import { readRequestBody } from '../../../proxy/server/request-body.js';

const memory = (limit = 1 << 20) => new ReplayMemory(limit);

/** An IncomingMessage stand-in: the headers readRequestBody looks at, and the body delivered in the given pieces. */
function incoming(headers: Record<string, string>, pieces: Buffer[]): IncomingMessage {
  const req = Object.assign(new PassThrough(), { headers, complete: false });
  setImmediate(() => {
    for (const piece of pieces) req.write(piece);
    req.complete = true;
    req.end();
  });
  return req as unknown as IncomingMessage;
}

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed) % 256));

t.test('no body: nothing to read', async (t) => {
  t.same(readRequestBody(incoming({}, []), 1024, memory(), new RequestScope()), { kind: 'none' });
  t.same(readRequestBody(incoming({ 'content-length': '0' }, []), 1024, memory(), new RequestScope()), { kind: 'none' });
});

t.test('a body in a few pieces is kept as those pieces, not copied', async (t) => {
  const pieces = [bytes(3000, 7), bytes(2000, 11), bytes(1000, 13)];
  const body = await readRequestBody(incoming({ 'content-length': '6000' }, pieces), 64 * 1024, memory(), new RequestScope());
  t.equal(body.kind, 'buffered');
  if (body.kind !== 'buffered') return;
  t.equal(body.chunks.length, 3);
  t.same(Buffer.concat(body.chunks), Buffer.concat(pieces));
});

t.test('a body trickled in many small pieces is joined into one buffer', async (t) => {
  const pieces = Array.from({ length: 100 }, (_, i) => bytes(16, i + 1));
  const body = await readRequestBody(incoming({ 'content-length': '1600' }, pieces), 64 * 1024, memory(), new RequestScope());
  t.equal(body.kind, 'buffered');
  if (body.kind !== 'buffered') return;
  t.equal(body.chunks.length, 1, 'one buffer, not a hundred');
  t.same(body.chunks[0], Buffer.concat(pieces));
});

t.test('a chunked upload is read to its end like a sized one', async (t) => {
  const pieces = [bytes(10, 3), bytes(20, 5)];
  const body = await readRequestBody(incoming({ 'transfer-encoding': 'chunked' }, pieces), 64 * 1024, memory(), new RequestScope());
  t.equal(body.kind, 'buffered');
  if (body.kind === 'buffered') t.same(Buffer.concat(body.chunks), Buffer.concat(pieces));
});

t.test('past the replay limit the body is streamed, every byte of it', async (t) => {
  const declared = readRequestBody(incoming({ 'content-length': '5000' }, [bytes(5000, 3)]), 4096, memory(), new RequestScope());
  t.equal((declared as { kind: string }).kind, 'stream', 'by its Content-Length, without reading it');

  const pieces = [bytes(3000, 7), bytes(3000, 9), bytes(3000, 11)];
  const grown = await readRequestBody(incoming({ 'transfer-encoding': 'chunked' }, pieces), 4096, memory(), new RequestScope());
  t.equal(grown.kind, 'stream', 'once it grows past the limit');
  if (grown.kind !== 'stream') return;
  const read: Buffer[] = [];
  for await (const chunk of grown.stream) read.push(chunk as Buffer);
  t.same(Buffer.concat(read), Buffer.concat(pieces), 'what was read so far, then the rest');
});

t.test('kept bytes count against the replay memory until the request ends, then are released once', async (t) => {
  const replay = memory(10_000);
  const scope = new RequestScope();
  const body = await readRequestBody(incoming({ 'content-length': '6000' }, [bytes(6000, 3)]), 64 * 1024, replay, scope);
  t.equal(body.kind, 'buffered');
  t.equal(replay.used, 6000, 'held while the request may still replay it');
  scope.end();
  scope.end();
  t.equal(replay.used, 0, 'released exactly once');
});

t.test('past the process-wide replay memory a body streams through once, every byte, and holds nothing', async (t) => {
  const replay = memory(4000);
  const pieces = [bytes(3000, 7), bytes(3000, 9)];
  const body = await readRequestBody(incoming({ 'transfer-encoding': 'chunked' }, pieces), 64 * 1024, replay, new RequestScope());
  t.equal(body.kind, 'stream');
  if (body.kind !== 'stream') return;
  t.equal(body.reason, 'memory');
  t.equal(replay.used, 0);
  const read: Buffer[] = [];
  for await (const chunk of body.stream) read.push(chunk as Buffer);
  t.same(Buffer.concat(read), Buffer.concat(pieces));
});

t.test('a client leaving mid-upload ends the read with client-gone and releases what was read', async (t) => {
  const replay = memory();
  const scope = new RequestScope();
  const req = Object.assign(new PassThrough(), { headers: { 'content-length': '6000' }, complete: false }) as unknown as IncomingMessage;
  const reading = readRequestBody(req, 64 * 1024, replay, scope) as Promise<unknown>;
  (req as unknown as PassThrough).write(bytes(3000, 5));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(replay.used, 3000);
  scope.abort(clientGone());
  const err = await reading.then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof ProxyError && err.kind === 'client-gone', 'rejected with the scope reason');
  t.equal(replay.used, 0);
});
