const UNITS: Record<string, number> = { B: 1, KB: 1000, KiB: 1024, MB: 1_000_000, MiB: 1024 * 1024 };
/** Also the published JSON Schema's pattern for sizes written as text. */
export const SIZE = /^(\d+)\s*(B|KB|KiB|MB|MiB)?$/;

/** Beyond this a byte count is no longer exact, and Node's own limits refuse it (a proxy would not start). */
export const MAX_SIZE_BYTES = Number.MAX_SAFE_INTEGER;

/** Parses "65536", "64KiB" or "1MiB" into bytes; undefined when the text is not a size, or too large for one. */
export function parseSize(text: string | number): number | undefined {
  const bytes = typeof text === 'number' ? text : sizeOfText(text);
  return bytes !== undefined && bytes <= MAX_SIZE_BYTES ? bytes : undefined;
}

function sizeOfText(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  return match ? Number(match[1]) * UNITS[match[2] ?? 'B']! : undefined;
}
