// report.html: one self-contained page (inline CSS and SVG, no scripts, no network) that also prints well.
import type { ExperimentResult } from '../results.js';
import { armColours } from './arms.js';
import type { Chart } from './charts.js';
import { formatHypothesisRule } from './format.js';
import { attemptsTable, eventsTable, experimentFacts, HOW_TO_READ, type TextTable } from './sections.js';
import { baselineArmNames, buildSummaryTable, judgedArms, verdictIsGood, verdictLine } from './summary-table.js';
import { armSettingsTable, failuresTable } from './sections.js';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 2rem auto; max-width: 980px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1rem; margin: 1.4rem 0 .3rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: .5rem 0; font-variant-numeric: tabular-nums; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
th, td.right { white-space: nowrap; }
th { background: #f4f4f4; font-weight: 600; }
td.right, th.right { text-align: right; } td.left, th.left { text-align: left; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .4em; vertical-align: -.05em; }
.PASS { color: #1e7b3c; font-weight: 700; } .FAIL { color: #b3261e; font-weight: 700; }
.verdict { font-size: 1.1rem; padding: .5rem .8rem; border-left: 4px solid currentColor; background: #fafafa; }
.legend, .caption { color: #555; font-size: .9em; }
figure { margin: 0 0 1rem; break-inside: avoid; } figure svg { max-width: 100%; height: auto; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } h2 { break-after: avoid; } table, figure { break-inside: avoid; } }
`;

interface CellMarkup {
  html: string;
  className?: string;
}

const plainCell = (cell: string): CellMarkup => ({ html: escapeHtml(cell) });

function htmlTable(table: TextTable, cellMarkup: (cell: string, row: number, column: number) => CellMarkup = plainCell): string {
  const head = table.columns.map((column) => `<th class="${column.align}">${escapeHtml(column.header)}</th>`).join('');
  const body = table.rows
    .map((cells, row) => {
      const tds = cells.map((cell, column) => {
        const { html, className } = cellMarkup(cell, row, column);
        return `<td class="${table.columns[column]!.align}${className ? ` ${className}` : ''}">${html}</td>`;
      });
      return `<tr>${tds.join('')}</tr>`;
    })
    .join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** The summary table with a colour swatch per arm (matching the charts) and coloured PASS/FAIL. */
function summaryHtml(result: ExperimentResult): string {
  const summary = buildSummaryTable(result);
  const colours = armColours(summary.rows.map((row) => row.arm));
  const verdictColumn = summary.columns.length - 1;
  const table = htmlTable({ columns: summary.columns, rows: summary.rows.map((row) => row.cells) }, (cell, row, column) => {
    const { arm, verdict } = summary.rows[row]!;
    if (column === 0) return { html: `<span class="swatch" style="background:${colours.get(arm)}"></span>${escapeHtml(cell)}` };
    if (column === verdictColumn && verdict !== 'neutral') return { html: escapeHtml(cell), className: verdict === 'good' ? 'PASS' : 'FAIL' };
    return plainCell(cell);
  });
  return `${table}\n<p class="legend">${escapeHtml(summary.legend)}</p>`;
}

/** "a.json, b.yaml" -> links to those files of the run folder. */
function fileLinks(cell: string): string {
  return cell.split(', ').filter(Boolean).map((file) => `<a href="${escapeHtml(file)}">${escapeHtml(file)}</a>`).join(', ');
}

function chartHtml(chart: Chart): string {
  return `<figure id="chart-${chart.id}">\n<h3>${escapeHtml(chart.title)}</h3>\n${chart.svg}\n<figcaption class="caption">${escapeHtml(chart.caption)}</figcaption>\n</figure>`;
}

export function renderHtml(result: ExperimentResult, charts: readonly Chart[]): string {
  const attempts = attemptsTable(result);
  const events = eventsTable(result);
  const verdictClass = verdictIsGood(result) ? 'PASS' : 'FAIL';
  const settings = armSettingsTable(result);
  const failures = failuresTable(result);
  const notes = result.notEquivalent ?? [];
  const facts = experimentFacts(result)
    .map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('');
  const body = [
    `<h1>${escapeHtml(result.title)}</h1>`,
    result.description ? `<p>${escapeHtml(result.description)}</p>` : '',
    `<dl class="facts">${facts}</dl>`,
    '<h2>Hypothesis</h2>',
    `<p>${escapeHtml(result.hypothesis.description)}</p>`,
    `<p>Rule: <code>${escapeHtml(formatHypothesisRule(result.hypothesis))}</code>, judged for every arm: it must hold for ${escapeHtml(judgedArms(result).join(', ') || 'no arm')}` +
      `${baselineArmNames(result).length > 0 ? ` and must not hold for the baseline ${escapeHtml(baselineArmNames(result).join(', '))}` : ''}.</p>`,
    `<p class="verdict ${verdictClass}">${escapeHtml(verdictLine(result))}</p>`,
    '<h2>Results per arm</h2>',
    summaryHtml(result),
    ...(failures ? ['<h2>Failed calls by cause</h2>', htmlTable(failures), `<p class="legend">Calls that did not get a 2xx, by what the client saw${(result.repeats ?? 1) > 1 ? `, summed over the ${result.repeats} repeats` : ''}.</p>`] : []),
    ...(settings ? ['<h2>Arm settings</h2>', htmlTable(settings, (cell, _row, column) => (column === 3 ? { html: fileLinks(cell) } : plainCell(cell)))] : []),
    ...(notes.length > 0 ? ['<h3>Not equivalent</h3>', `<ul>${notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`] : []),
    '<h2>Charts</h2>',
    ...charts.map(chartHtml),
    attempts ? `<h2>Attempts per call: counts</h2>\n${htmlTable(attempts)}` : '',
    '<h2>Action timeline</h2>',
    events.rows.length > 0 ? htmlTable(events) : '<p>No chaos actions were recorded.</p>',
    '<h2>How to read this</h2>',
    `<ul>${HOW_TO_READ.map((paragraph) => `<li>${escapeHtml(paragraph)}</li>`).join('')}</ul>`,
  ].filter(Boolean);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(result.title)} - Breakwater chaos report</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}
