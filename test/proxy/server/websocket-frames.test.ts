import type { EventEmitter } from 'node:events';
import t from 'tap';
import * as ws from 'ws';
import { closeFrame, FrameBoundary, GOING_AWAY } from '../../../proxy/server/websocket-frames.js';

/** ws's own framing, which its type declarations leave out: an implementation other than the one under test. */
const { Sender, Receiver } = ws as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean }): Buffer[] };
  Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): boolean };
};

/** The bytes ws itself puts on the wire for one binary frame. */
function wireFrame(payload: Buffer, options: { mask: boolean; fin?: boolean }): Buffer {
  return Buffer.concat(Sender.frame(payload, { fin: options.fin ?? true, mask: options.mask, opcode: 2, readOnly: false, rsv1: false }));
}

/** What ws's own parser makes of `bytes`, as a client (unmasked frames) or a server (masked ones) reads them. */
function parse(bytes: Buffer, isServer: boolean): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const receiver = new Receiver({ isServer });
    receiver.on('conclude', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    receiver.on('error', reject);
    receiver.write(bytes);
  });
}

t.test('the close frame is one ws reads as 1001 with its reason, masked only towards the upstream', async (t) => {
  t.same(await parse(closeFrame(GOING_AWAY, 'going away', false), false), { code: 1001, reason: 'going away' }, 'a client reads the unmasked frame');
  t.same(await parse(closeFrame(GOING_AWAY, 'going away', true), true), { code: 1001, reason: 'going away' }, 'a server reads the masked frame');
  t.equal(closeFrame(GOING_AWAY, 'x'.repeat(300), false).length, 2 + 125, 'a long reason is cut to fit a control frame');
});

t.test('frame boundaries are found whatever the payload length and however the bytes are split', async (t) => {
  const frames = [0, 5, 125, 126, 1000, 65_535, 65_536, 200_000].flatMap((length) => [
    wireFrame(Buffer.alloc(length, 7), { mask: false }),
    wireFrame(Buffer.alloc(length, 9), { mask: true, fin: false }),
  ]);
  const stream = Buffer.concat(frames);
  const ends: number[] = [];
  let offset = 0;
  for (const frame of frames) ends.push((offset += frame.length));

  for (const split of [1, 3, 7, 1000, 65_536]) {
    const boundary = new FrameBoundary();
    const seen: number[] = [];
    for (let at = 0; at < stream.length; at += split) {
      const chunk = stream.subarray(at, Math.min(at + split, stream.length));
      // Walk the chunk boundary by boundary, as a closing direction does.
      let used = 0;
      while (used < chunk.length) {
        used += boundary.untilBoundary(chunk.subarray(used));
        if (boundary.atBoundary) seen.push(at + used);
      }
    }
    t.same(seen, ends, `every frame end is seen, and nothing else taken for one, in chunks of ${split} bytes`);
  }
});

t.test('pass() follows whole chunks, and notices a close frame', async (t) => {
  const boundary = new FrameBoundary();
  const data = wireFrame(Buffer.alloc(300, 1), { mask: true });
  boundary.pass(data.subarray(0, 100));
  t.notOk(boundary.atBoundary, 'inside a frame');
  boundary.pass(data.subarray(100));
  t.ok(boundary.atBoundary, 'between frames');
  t.notOk(boundary.closeSeen);
  boundary.pass(closeFrame(1000, 'bye', true));
  t.ok(boundary.closeSeen, 'a close frame passed');
});
