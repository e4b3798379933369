import { pino, type Logger } from 'pino';

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

/** JSON lines on stdout; level from BREAKWATER_LOG_LEVEL, else the policy file, else info. */
export function createLogger(level = process.env.BREAKWATER_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'breakwater' },
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export type { Logger };
