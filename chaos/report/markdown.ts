// report.md: the same content as report.html without charts, for terminals, PRs and chat.
import type { ExperimentResult } from '../results.js';
import { formatHypothesisRule } from './format.js';
import { armSettingsTable, attemptsTable, eventsTable, experimentFacts, failuresTable, HOW_TO_READ, type TextTable } from './sections.js';
import { baselineArmNames, buildSummaryTable, judgedArms, verdictLine } from './summary-table.js';

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

function repeatsNote(result: ExperimentResult): string {
  const repeats = result.repeats ?? 1;
  return `Calls that did not get a 2xx, by what the client saw${repeats > 1 ? `, summed over the ${repeats} repeats` : ''}: a status, a fast-fail (open breaker, bulkhead), a timeout, or a connection error; p50 = how long the client waited for them.`;
}

/** The exact settings files of each arm, as links relative to the run folder. */
function settingsLinks(settings: TextTable): string {
  return settings.rows
    .map((row) => `- ${escapeMarkdown(row[0]!)}: ${row[3]!.split(', ').filter(Boolean).map((file) => `[${escapeMarkdown(file)}](${file})`).join(', ')}`)
    .join('\n');
}

export function renderMarkdown(result: ExperimentResult): string {
  const summary = buildSummaryTable(result);
  const attempts = attemptsTable(result);
  const events = eventsTable(result);
  const settings = armSettingsTable(result);
  const failures = failuresTable(result);
  const notes = result.notEquivalent ?? [];
  const baseline = baselineArmNames(result);
  const sections = [
    `# ${escapeMarkdown(result.title)}`,
    ...(result.description ? [escapeMarkdown(result.description)] : []),
    experimentFacts(result)
      .map(([label, value]) => `- **${label}:** ${escapeMarkdown(value)}`)
      .join('\n'),
    '## Hypothesis',
    `${escapeMarkdown(result.hypothesis.description)}\n\n` +
      `Rule: \`${formatHypothesisRule(result.hypothesis).replace(/`/g, "'")}\`, judged for every arm: it must hold for ${escapeMarkdown(judgedArms(result).join(', ') || 'no arm')}` +
      `${baseline.length > 0 ? ` and must not hold for the baseline ${escapeMarkdown(baseline.join(', '))}` : ''}.\n\n` +
      `**${escapeMarkdown(verdictLine(result))}**`,
    '## Results per arm',
    markdownTable({ columns: summary.columns, rows: summary.rows.map((row) => row.cells) }),
    escapeMarkdown(summary.legend),
    ...(failures ? ['## Failed calls by cause', markdownTable(failures), repeatsNote(result)] : []),
    ...(settings ? ['## Arm settings', markdownTable({ ...settings, rows: settings.rows.map((row) => row.slice(0, 3)) , columns: settings.columns.slice(0, 3) }) + '\n\n' + settingsLinks(settings)] : []),
    ...(notes.length > 0 ? ['### Not equivalent', notes.map((note) => `- ${escapeMarkdown(note)}`).join('\n')] : []),
    ...(attempts ? ['## Attempts per call', markdownTable(attempts)] : []),
    '## Action timeline',
    events.rows.length > 0 ? markdownTable(events) : 'No chaos actions were recorded.',
    '## How to read this',
    HOW_TO_READ.map((paragraph) => `- ${paragraph}`).join('\n'),
  ];
  return `${sections.join('\n\n')}\n`;
}
