/**
 * One tunnel: after a 101, the client's connection and the upstream's, relayed both ways with each side's
 * backpressure passed to the other and a half-close passed on. It ends when either side closes or fails, when no
 * byte has passed either way for its idle timeout (one timer on the shared clock, moved on only when it comes due),
 * or when Breakwater closes it (drain). A websocket tunnel Breakwater closes itself is closed as WebSocket asks:
 * a close frame "going away" to each side, after the frame in flight that way (websocket-frames.ts), then the end.
 */
import type { Duplex } from 'node:stream';
import { clock, type Timer } from '../core/clock.js';
import { closeFrame, FrameBoundary, GOING_AWAY } from './websocket-frames.js';

/** How a tunnel ended, one bounded label value. */
export type TunnelEnd = 'client-closed' | 'upstream-closed' | 'client-error' | 'upstream-error' | 'idle-timeout' | 'drain';

/** Time a side has, once Breakwater closes the tunnel, to finish the frame it is sending and take the close. */
const CLOSE_GRACE_MS = 1000;

export interface TunnelOptions {
  /** The protocol switched to, such as websocket. */
  readonly protocol: string;
  readonly idleTimeoutMs: number;
  /** Told once, however the tunnel ends. */
  ended(how: TunnelEnd): void;
}

/** One direction of the tunnel: what `from` sends goes to `to`, as fast as `to` takes it. */
class Direction {
  /** Set when Breakwater closes the tunnel: sent once the frame in flight has passed. */
  private closing: Buffer | undefined;

  constructor(
    private readonly from: Duplex,
    private readonly to: Duplex,
    private readonly tunnel: Tunnel,
    /** Only on a websocket tunnel. */
    private readonly frames: FrameBoundary | undefined,
    /** How the tunnel ends when `from` begins the closing (a close frame, or its connection closing first). */
    readonly closedBy: 'client-closed' | 'upstream-closed',
  ) {
    from.on('data', (chunk: Buffer) => this.relay(chunk));
    from.on('end', () => to.end());
    to.on('drain', () => from.resume());
  }

  /** Closes this way: the close frame (if any) after the frame in flight, then the end. */
  close(frame: Buffer | undefined): void {
    if (frame === undefined || this.frames === undefined || this.frames.atBoundary) return this.finish(frame);
    this.closing = frame;
    this.from.resume();
  }

  relay(chunk: Buffer): void {
    this.tunnel.lastActivity = clock.time();
    if (this.closing) {
      const length = this.frames!.untilBoundary(chunk);
      const flowing = !this.to.writable || this.to.write(length === chunk.length ? chunk : chunk.subarray(0, length));
      if (this.frames!.atBoundary) this.finish(this.closing);
      else if (!flowing) this.from.pause();
      return;
    }
    const frames = this.frames;
    if (frames) {
      frames.pass(chunk);
      // The side that sends the first close frame closed the tunnel, though the upstream ends the TCP connection.
      if (frames.closeSeen) this.tunnel.closing(this.closedBy);
    }
    if (!this.to.write(chunk)) this.from.pause();
  }

  private finish(frame: Buffer | undefined): void {
    this.closing = undefined;
    this.from.pause();
    this.from.removeAllListeners('data');
    if (this.to.writable) this.to.end(frame);
  }
}

export class Tunnel {
  lastActivity = clock.time();
  /** How it ended, or is ending: the first of the two sides to go, or Breakwater closing it. */
  private result: TunnelEnd | undefined;
  private open = 2;
  /** Set once Breakwater closes the tunnel itself (close()). */
  private closingItself = false;
  /** The idle timer while both sides are open; then the bound on the closing. */
  private timer: Timer | undefined;
  private readonly toUpstream: Direction;
  private readonly toClient: Direction;

  constructor(
    private readonly client: Duplex,
    private readonly upstream: Duplex,
    /** Bytes the client sent after its request head, ahead of the rest. */
    clientHead: Buffer,
    private readonly options: TunnelOptions,
  ) {
    const websocket = options.protocol === 'websocket';
    this.toUpstream = new Direction(client, upstream, this, websocket ? new FrameBoundary() : undefined, 'client-closed');
    this.toClient = new Direction(upstream, client, this, websocket ? new FrameBoundary() : undefined, 'upstream-closed');
    client.on('error', () => this.fail('client-error'));
    upstream.on('error', () => this.fail('upstream-error'));
    client.on('close', () => this.closed('client-closed'));
    upstream.on('close', () => this.closed('upstream-closed'));
    if (clientHead.length > 0) this.toUpstream.relay(clientHead);
    this.armIdle();
  }

  /**
   * Breakwater ends the tunnel (idle, drain): a websocket hears "going away" both ways; both connections are then
   * closed, at the latest after CLOSE_GRACE_MS.
   */
  close(how: 'idle-timeout' | 'drain'): void {
    if (this.closingItself) return;
    this.closingItself = true;
    this.result = how;
    const websocket = this.options.protocol === 'websocket';
    const reason = how === 'drain' ? 'going away' : 'idle timeout';
    this.toClient.close(websocket ? closeFrame(GOING_AWAY, reason, false) : undefined);
    this.toUpstream.close(websocket ? closeFrame(GOING_AWAY, reason, true) : undefined);
    this.bound();
  }

  /** A side has begun the closing: it is how the tunnel ends, unless something else came first. */
  closing(how: TunnelEnd): void {
    this.result ??= how;
  }

  /** A side failed: nothing more can pass, so both go at once. */
  private fail(how: TunnelEnd): void {
    this.result ??= how;
    this.destroy();
  }

  /**
   * A side has closed. The other was told to end when this one ended its sending (a half-close passed on): it gets
   * CLOSE_GRACE_MS to deliver what it holds. The tunnel has ended, once, when both are closed.
   */
  private closed(how: TunnelEnd): void {
    this.result ??= how;
    if (--this.open > 0) return this.bound();
    this.timer?.cancel();
    this.timer = undefined;
    this.options.ended(this.result);
  }

  private bound(): void {
    this.timer?.cancel();
    this.timer = clock.after(CLOSE_GRACE_MS, () => this.destroy());
  }

  private destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  private armIdle(): void {
    this.timer = clock.at(this.lastActivity + this.options.idleTimeoutMs, Tunnel.idleDue, this);
  }

  /** The idle timer's callback (one function for every tunnel): closes it, or moves on if a byte passed since. */
  static idleDue(tunnel: Tunnel): void {
    tunnel.timer = undefined;
    if (clock.time() - tunnel.lastActivity >= tunnel.options.idleTimeoutMs) tunnel.close('idle-timeout');
    else tunnel.armIdle();
  }
}
