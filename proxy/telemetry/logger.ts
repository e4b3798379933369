import { pino, type Logger } from 'pino';
import { AccessLog } from './access-log.js';
import { LineBatch } from './line-batch.js';

/** Header and field names whose values never reach a log line. */
export const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'headers["set-cookie"]',
  '*.authorization',
  '*.cookie',
];

/**
 * pino's isoTime formats a new Date for every line; under load many lines share a millisecond, so the formatted text
 * is kept until the millisecond changes.
 */
let lastMs = -1;
let lastTime = '';
function isoTime(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = `,"time":"${new Date(ms).toISOString()}"`;
  }
  return lastTime;
}

export interface Loggers {
  /** Operational events; secret-looking fields redacted. */
  log: Logger;
  /** One line per request, on the same destination. Its fields are fixed (no headers, no query string): no redaction. */
  access: AccessLog;
  /** Writes what is still buffered; call before exiting. */
  flush(): void;
}

/**
 * JSON lines on stdout, written in batches of 4 KiB rather than one write(2) per line (LineBatch), and flushed at
 * least every 100 ms so a person (or a test) tailing the output never waits long. The batches are written
 * synchronously (pino's own default): an asynchronous fs.write hands every batch to libuv's thread pool, which costs
 * more CPU per line than the write itself, on threads that share the proxy's core. sonic-boom (pino's
 * destination) still does the writing: partial writes, EAGAIN on a full pipe. Level from BREAKWATER_LOG_LEVEL, else
 * the policy file.
 */
export function createLoggers(level = process.env.BREAKWATER_LOG_LEVEL ?? 'info'): Loggers {
  const batch = new LineBatch(pino.destination({ dest: 1, sync: true, minLength: 0 }), 4096, 100);
  const base = { service: 'breakwater' };
  const log = pino({ level, base, timestamp: isoTime, redact: { paths: SECRET_PATHS, censor: '[redacted]' } }, batch);
  return {
    log,
    access: new AccessLog(batch, isoTime, base, log.isLevelEnabled('info')),
    flush: () => batch.flushSync(),
  };
}

export type { Logger };
