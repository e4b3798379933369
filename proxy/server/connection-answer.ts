/**
 * Answers the listener writes straight onto a client connection, for requests that have no ServerResponse of their
 * own (a malformed or timed-out head) or whose handler must not answer (a stalled body): the answer waits until every
 * response before it on that connection has been written whole, then goes out and the connection closes. Written at
 * once it would land inside a pipelined response that is still being sent.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionAnswer {
  status: 400 | 408 | 431;
  error: string;
  detail: string;
}

/**
 * Node's http server keeps the response it is writing in `_httpMessage`; later pipelined responses wait in a queue,
 * and when one finishes, Node's own 'finish' listener (added before any of ours) hands the socket to the next.
 */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null; [answering]?: true };

const answering = Symbol('breakwater.answering');

/**
 * Writes `answer` after the responses already under way on `socket`, then closes it. `own` is the response the answer
 * stands in for: the answer goes out when `own` holds the socket, or the connection just closes if `own` has begun.
 * Returns false when an answer is already on its way on this connection (the parser repeats its error for every
 * later read), so each connection is answered and counted once.
 */
export function answerAndClose(socket: Socket, answer: ConnectionAnswer, own?: ServerResponse): boolean {
  const connection = socket as HttpSocket;
  if (connection[answering]) return false;
  connection[answering] = true;
  writeWhenFirst(connection, answer, own);
  return true;
}

/** True while a response on this connection is being written or waits its turn behind another. */
export function responseUnderWay(socket: Socket): boolean {
  return Boolean((socket as HttpSocket)._httpMessage);
}

function writeWhenFirst(socket: HttpSocket, answer: ConnectionAnswer, own: ServerResponse | undefined): void {
  const current = socket._httpMessage;
  if (current && current !== own) {
    const next = () => {
      socket.off('close', gone);
      writeWhenFirst(socket, answer, own);
    };
    const gone = () => current.off('finish', next);
    current.once('finish', next);
    socket.once('close', gone);
    return;
  }
  if (own?.headersSent || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: answer.error, detail: answer.detail });
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-breakwater-attempts: 0\r\nconnection: close\r\n\r\n${body}`,
  );
  // Once written, the descriptor is freed even if the client never closes its side.
  socket.destroySoon();
}
