/**
 * The HTTP/2 side of a listener: node:http2 sessions on connections the protocol front hands over. Its settings bound
 * what one client connection may hold (`listeners[].http2`: concurrent streams, header list size, flow-control
 * window). Drain is HTTP/2's own: a GOAWAY tells clients to open new connections for new calls (to another pod),
 * while the streams in flight finish; what outlives drain.timeout is cut by the listener, each stream with a status.
 */
import { createServer, type Http2Server, type Http2ServerRequest, type Http2Session, type Settings } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ListenerHttp2 } from '../config/policy.js';
import { ClientH2Response } from './client-response.js';

/** Requests open on a session: a session idle past the listener's idleTimeout is closed only when there are none. */
const openRequests = Symbol('breakwater.openRequests');
type CountedSession = Http2Session & { [openRequests]?: number };

export type H2RequestHandler = (req: Http2ServerRequest, res: ClientH2Response) => void;

function http2Settings(settings: ListenerHttp2): Settings {
  return {
    maxConcurrentStreams: settings.maxConcurrentStreams,
    maxHeaderListSize: settings.maxHeaderListSizeBytes,
    initialWindowSize: settings.initialWindowSizeBytes,
    enablePush: false,
  };
}

export class H2Sessions {
  readonly server: Http2Server<typeof IncomingMessage, typeof ServerResponse, typeof Http2ServerRequest, typeof ClientH2Response>;
  private readonly sessions = new Set<Http2Session>();
  private draining = false;

  constructor(settings: ListenerHttp2, idleTimeoutMs: number, onRequest: H2RequestHandler, onSession: () => void) {
    this.server = createServer(
      {
        settings: http2Settings(settings),
        maxHeaderListPairs: 256,
        Http2ServerResponse: ClientH2Response,
      },
      (req, res) => {
        const session = req.stream.session as CountedSession;
        session[openRequests] = (session[openRequests] ?? 0) + 1;
        res.once('close', () => {
          session[openRequests]!--;
        });
        onRequest(req, res as ClientH2Response);
      },
    );
    this.server.on('session', (session: Http2Session) => {
      onSession();
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      if (this.draining) session.close();
    });
    // Without a listener node:http2 would destroy a timed-out session; one with calls open (a quiet stream) stays.
    this.server.on('timeout', (session: CountedSession) => {
      if ((session[openRequests] ?? 0) === 0) session.close();
    });
    this.apply(settings, idleTimeoutMs);
  }

  /** A reload's settings: sent to open sessions, and used for sessions accepted from now on. */
  apply(settings: ListenerHttp2, idleTimeoutMs: number): void {
    const wire = http2Settings(settings);
    this.server.updateSettings(wire);
    for (const session of this.sessions) {
      if (!session.closed && !session.destroyed) session.settings(wire);
    }
    this.server.setTimeout(idleTimeoutMs);
  }

  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  /** GOAWAY to every session, now and on arrival: calls in flight finish, new ones go to new connections. */
  startDraining(): void {
    this.draining = true;
    for (const session of this.sessions) session.close();
  }

  /**
   * After drain.timeout, once the listener has cut every stream: each session closes as soon as its last frames are
   * out (a gRPC call's status among them), or is destroyed if its peer does not let them go within a second.
   */
  closeAll(): void {
    for (const session of this.sessions) {
      session.close();
      setTimeout(() => session.destroy(), 1000).unref();
    }
  }
}
