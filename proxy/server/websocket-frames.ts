/**
 * What Breakwater needs of the WebSocket framing (RFC 6455 §5.2) to end a websocket tunnel cleanly itself: where one
 * frame ends in each direction's byte stream (headers read, payloads skipped, nothing decoded), so its own close frame
 * goes in between two frames, never inside one; and that close frame, unmasked towards the client (a server's frames
 * never are) and masked towards the upstream (a client's always are, §5.3).
 */
import { randomBytes } from 'node:crypto';

/** RFC 6455 §7.4.1: the endpoint is going away (a server shutting down). */
export const GOING_AWAY = 1001;

const OPCODE_CLOSE = 0x8;
const FIN = 0x80;
const MASKED = 0x80;
/** A control frame's payload is at most 125 bytes (§5.5): the code's two and a reason of up to 123. */
const MAX_REASON_BYTES = 123;

export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const text = Buffer.from(reason).subarray(0, MAX_REASON_BYTES);
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  const head = Buffer.from([FIN | OPCODE_CLOSE, (masked ? MASKED : 0) | payload.length]);
  if (!masked) return Buffer.concat([head, payload]);
  const mask = randomBytes(4);
  for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, mask, payload]);
}

/** Follows the frames of one direction of a websocket stream as its bytes pass. */
export class FrameBoundary {
  /** Bytes of the frame header being read (at most 14). */
  private readonly header = Buffer.alloc(14);
  private headerRead = 0;
  /** The current header's full length, once its second byte says it; 0 before. */
  private headerLength = 0;
  /** Payload bytes of the current frame still to pass. */
  private remaining = 0;
  /** Whether a close frame has passed: this side has begun the closing handshake. */
  closeSeen = false;

  /** True between two frames: a frame of Breakwater's own may go in here. */
  get atBoundary(): boolean {
    return this.headerRead === 0 && this.remaining === 0;
  }

  /** Follows a chunk that passes whole. */
  pass(chunk: Buffer): void {
    this.follow(chunk, false);
  }

  /** How many bytes of `chunk` finish the frame in progress (all of them when it does not end in this chunk). */
  untilBoundary(chunk: Buffer): number {
    return this.follow(chunk, true);
  }

  private follow(chunk: Buffer, stopAtBoundary: boolean): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
      } else {
        this.header[this.headerRead++] = chunk[i++]!;
        if (this.headerRead === 2) this.headerLength = headerLength(this.header);
        if (this.headerRead < 2 || this.headerRead < this.headerLength) continue;
        this.remaining = payloadLength(this.header);
        if ((this.header[0]! & 0x0f) === OPCODE_CLOSE) this.closeSeen = true;
        this.headerRead = 0;
        this.headerLength = 0;
      }
      if (stopAtBoundary && this.atBoundary) return i;
    }
    return i;
  }
}

/** From the second byte: 2, plus the extended length (2 or 8 bytes), plus the mask key (4) when masked. */
function headerLength(header: Buffer): number {
  const length7 = header[1]! & 0x7f;
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (header[1]! & MASKED ? 4 : 0);
}

function payloadLength(header: Buffer): number {
  const length7 = header[1]! & 0x7f;
  if (length7 === 126) return header.readUInt16BE(2);
  if (length7 === 127) return header.readUInt32BE(2) * 2 ** 32 + header.readUInt32BE(6);
  return length7;
}
