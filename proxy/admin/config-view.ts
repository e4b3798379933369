/**
 * The policy as GET /config shows it. Every caller sees the values of secret-looking keys replaced. A caller from
 * outside the pod (any address but loopback: the chart binds admin on 0.0.0.0 for probes and scraping) sees the
 * policy's shape only: every header value a route matches or a fallback sends, fallback bodies and file paths are
 * replaced too, as any of them may be a credential (a shared `x-internal-auth` value, a token in a fallback) or say
 * where one is kept. Loopback callers (the pod itself, kubectl port-forward) see those values.
 */
export const REDACTED = '[redacted]';

export type ConfigAudience = 'loopback' | 'remote';

const SECRET_KEY = /authorization|cookie|token|secret|password|api[-_]?key/i;
/** Keys naming a file on the proxy's machine: tls.caFile and any later *File. */
const FILE_KEY = /file$/i;

function hidden(key: string, value: unknown, parentKey: string | undefined, audience: ConfigAudience): boolean {
  if (SECRET_KEY.test(key) && typeof value !== 'object') return true;
  if (audience === 'loopback') return false;
  return parentKey === 'headers' || (parentKey === 'fallback' && (key === 'json' || key === 'body')) || FILE_KEY.test(key);
}

/** Copies a policy document (or any part of it) with what `audience` may not see replaced by REDACTED. */
export function configView(value: unknown, audience: ConfigAudience, parentKey?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => configView(item, audience));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = hidden(key, item, parentKey, audience) ? REDACTED : configView(item, audience, key);
    return out;
  }
  return value;
}
