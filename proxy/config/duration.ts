const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Also the published JSON Schema's pattern for durations, so editors check them as the proxy does. */
export const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/**
 * The longest delay a Node.js timer keeps (2^31 - 1 ms, about 24.8 days). A longer one fires after 1 ms instead: a
 * health check interval would become a flood, a breaker's resetTimeout no wait at all.
 */
const MAX_DURATION_MS = 2 ** 31 - 1;

/** What a duration looks like, in every message about one that is not. */
export const DURATION_HINT = 'must be a duration such as 250ms, 3s or 1m, at most 596h';

/** A duration with a digit other than 0, for the published schema: an editor's check of what `positiveDuration` is. */
export const POSITIVE_DURATION = new RegExp(`^(?=[^1-9]*[1-9])${DURATION.source.slice(1)}`);

/** Most durations in a policy bound or pace something: 0 would switch it off or make it spin, never what is meant. */
export const POSITIVE_DURATION_HINT = 'must be a duration longer than 0, such as 250ms, 3s or 1m, at most 596h';

/** Parses "250ms", "3s", "1.5m" into milliseconds; undefined when the text is not a duration or is too long for one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * UNITS[match[2]!]!);
  return ms <= MAX_DURATION_MS ? ms : undefined;
}
