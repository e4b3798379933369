// The comparison table for stdout at the end of a chaos run.
import type { ExperimentResult } from '../results.js';
import { buildSummaryTable, verdictIsGood, verdictLine, type ArmVerdict, type SummaryColumn } from './summary-table.js';

export interface TerminalTableOptions {
  /** ANSI colours for PASS/FAIL; default: only when stdout is a terminal and NO_COLOR is unset. */
  colour?: boolean;
}

const ANSI: Record<ArmVerdict, string> = { good: '\x1b[32m', bad: '\x1b[31m', neutral: '' };
const ANSI_RESET = '\x1b[0m';

function pad(text: string, width: number, align: SummaryColumn['align']): string {
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}

function paint(text: string, verdict: ArmVerdict, colour: boolean): string {
  return colour && ANSI[verdict] ? `${ANSI[verdict]}${text}${ANSI_RESET}` : text;
}

export function formatTerminalTable(result: ExperimentResult, options: TerminalTableOptions = {}): string {
  const colour = options.colour ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
  const table = buildSummaryTable(result);
  const widths = table.columns.map((column, i) =>
    Math.max(column.header.length, ...table.rows.map((row) => row.cells[i]!.length)),
  );
  const lastColumn = table.columns.length - 1;
  // Pad before painting so escape codes never shift the columns; the last column is not padded (no trailing spaces).
  const line = (cells: string[], verdict: ArmVerdict) =>
    [
      ...cells.slice(0, lastColumn).map((cell, i) => pad(cell, widths[i]!, table.columns[i]!.align)),
      paint(cells[lastColumn]!, verdict, colour),
    ].join('  ');
  const verdict = verdictLine(result);
  return [
    `${result.title} (${result.name}) - ${seedText(result)}, ${result.load.rate} req/s for ${result.load.durationMs / 1000} s per arm`,
    line(
      table.columns.map((column) => column.header),
      'neutral',
    ),
    ...table.rows.map((row) => line(row.cells, row.verdict)),
    table.legend,
    paint(verdict, verdictIsGood(result) ? 'good' : 'bad', colour),
  ].join('\n');
}

function seedText(result: ExperimentResult): string {
  const repeats = result.repeats ?? 1;
  return repeats > 1 ? `${repeats} repeats, seeds ${result.seed}-${result.seed + repeats - 1}` : `seed ${result.seed}`;
}
