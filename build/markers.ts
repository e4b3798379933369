/** Generated text between two marker comments of a hand-written file (the README's tables). */
export function replaceBetween(text: string, start: string, end: string, generated: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to < from) throw new Error(`no markers ${start} ... ${end}`);
  return `${text.slice(0, from + start.length)}\n${generated}\n${text.slice(to)}`;
}
