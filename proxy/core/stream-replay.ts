/**
 * A request body that goes upstream as it arrives and is kept, while it fits, so a retry can send it again: what a
 * gRPC call needs, since a streaming call's messages must flow before the call ends (a bidi call waits for replies
 * between messages) and a unary call must still be retryable onto another replica. Each attempt opens a reader that
 * replays the bytes kept so far and then follows the client's stream with its backpressure; a new reader replaces the
 * last one (attempts of one call are sequential). Once more than `limit` bytes arrived, or the process-wide replay
 * memory is short, nothing more is kept and the body cannot be replayed (gRFC A6's retry buffer, the same rule). Nor
 * can a call whose request stream is still open once a message of it has gone upstream: a streaming call is never
 * sent twice after a message went either way (a response message ends retries before any of this is asked).
 */
import { Readable } from 'node:stream';
import type { Scope } from './request-scope.js';

/** The process-wide bound on bytes kept for replay. */
export interface ReplayBudget {
  tryReserve(bytes: number): boolean;
  release(bytes: number): void;
}

export class StreamReplay {
  /** Every byte that arrived is kept (within `limit` and the replay memory). */
  private keptAll = true;
  /** Bytes handed to an attempt so far. */
  private sent = 0;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private ended = false;
  private failure: Error | undefined;
  private reader: Readable | undefined;

  constructor(
    private readonly source: Readable,
    private readonly limit: number,
    private readonly memory: ReplayBudget,
    scope: Scope,
  ) {
    source.pause();
    source.on('data', (chunk: Buffer) => this.arrived(chunk));
    source.once('end', () => {
      this.ended = true;
      this.reader?.push(null);
    });
    source.once('error', (err) => this.fail(err));
    // A client that leaves mid-body: the reader fails, so the attempt does not wait for bytes that will never come.
    source.once('close', () => {
      if (!this.ended) this.fail(new Error('the client stopped sending the request body'));
    });
    scope.hold(() => this.forget());
  }

  /** Whether another attempt can send the whole body: all of it kept, and either complete or none of it sent yet. */
  get replayable(): boolean {
    return this.keptAll && (this.ended || this.sent === 0);
  }

  /** The body from its first byte, for one attempt; throws when it cannot be replayed (check `replayable`). */
  open(): Readable {
    if (this.reader !== undefined && !this.replayable) throw new Error('request body is no longer replayable');
    const previous = this.reader;
    const reader = new Readable({ read: () => this.source.resume() });
    this.reader = reader;
    previous?.destroy();
    for (const chunk of this.kept) reader.push(chunk);
    this.sent = this.keptBytes;
    if (this.failure) reader.destroy(this.failure);
    else if (this.ended) reader.push(null);
    return reader;
  }

  private arrived(chunk: Buffer): void {
    if (this.keptAll) {
      if (this.keptBytes + chunk.length <= this.limit && this.memory.tryReserve(chunk.length)) {
        this.kept.push(chunk);
        this.keptBytes += chunk.length;
      } else {
        this.forget();
        this.keptAll = false;
      }
    }
    const reader = this.reader;
    if (reader !== undefined) this.sent += chunk.length;
    if (reader === undefined || !reader.push(chunk)) this.source.pause();
  }

  private fail(err: Error): void {
    this.failure = err;
    this.reader?.destroy(err);
  }

  private forget(): void {
    this.memory.release(this.keptBytes);
    this.kept = [];
    this.keptBytes = 0;
  }
}
