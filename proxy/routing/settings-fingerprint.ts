/**
 * The text that says whether a part's settings changed across a reload. Normalized settings hold Sets (a condition
 * list's statuses and gRPC codes), which JSON.stringify writes as `{}`: compared that way, `failOn: [429]` and
 * `failOn: [503]` look equal and the old state is kept. Here a Set is written as its sorted members and a Map as its
 * sorted entries, so equal text means equal content.
 */
export function settingsFingerprint(settings: object): string {
  return JSON.stringify(settings, (_key, value: unknown) => {
    if (value instanceof Set) return [...value].sort(byOrder);
    if (value instanceof Map) return [...value].sort((a, b) => byOrder(a[0], b[0]));
    return value;
  });
}

/** Numbers by value, anything else by its text: the order a Set was filled in does not matter. */
function byOrder(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}
