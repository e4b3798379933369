const UNITS: Record<string, number> = { B: 1, KB: 1000, KiB: 1024, MB: 1_000_000, MiB: 1024 * 1024 };
/** Also the published JSON Schema's pattern for sizes written as text. */
export const SIZE = /^(\d+)\s*(B|KB|KiB|MB|MiB)?$/;

/** Parses "65536", "64KiB" or "1MiB" into bytes; undefined when the text is not a size. */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return text;
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNITS[match[2] ?? 'B']!;
}
