// report.md: the same content as report.html without charts, for terminals, PRs and chat.
import type { ExperimentResult } from '../results.js';
import { formatHypothesisRule } from './format.js';
import { attemptsTable, eventsTable, experimentFacts, HOW_TO_READ, type TextTable } from './sections.js';
import { buildSummaryTable, judgedArms, verdictLine } from './summary-table.js';

/** Result strings are data, not markup: keep them from opening HTML tags or breaking table cells. */
function escapeMarkdown(text: string): string {
  return text
    .replace(/</g, '&lt;')
    .replace(/([\\`*_[\]|])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

function markdownTable(table: TextTable): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    row(table.columns.map((column) => escapeMarkdown(column.header))),
    row(table.columns.map((column) => (column.align === 'right' ? '---:' : ':---'))),
    ...table.rows.map((cells) => row(cells.map((cell) => escapeMarkdown(cell)))),
  ].join('\n');
}

export function renderMarkdown(result: ExperimentResult): string {
  const summary = buildSummaryTable(result);
  const attempts = attemptsTable(result);
  const events = eventsTable(result);
  const sections = [
    `# ${escapeMarkdown(result.title)}`,
    ...(result.description ? [escapeMarkdown(result.description)] : []),
    experimentFacts(result)
      .map(([label, value]) => `- **${label}:** ${escapeMarkdown(value)}`)
      .join('\n'),
    '## Hypothesis',
    `${escapeMarkdown(result.hypothesis.description)}\n\n` +
      `Rule: \`${formatHypothesisRule(result.hypothesis).replace(/`/g, "'")}\` for arms ${escapeMarkdown(judgedArms(result).join(', '))}.\n\n` +
      `**${escapeMarkdown(verdictLine(result))}**`,
    '## Results per arm',
    markdownTable({ columns: summary.columns, rows: summary.rows.map((row) => row.cells) }),
    escapeMarkdown(summary.legend),
    ...(attempts ? ['## Attempts per call', markdownTable(attempts)] : []),
    '## Action timeline',
    events.rows.length > 0 ? markdownTable(events) : 'No chaos actions were recorded.',
    '## How to read this',
    HOW_TO_READ.map((paragraph) => `- ${paragraph}`).join('\n'),
  ];
  return `${sections.join('\n\n')}\n`;
}
