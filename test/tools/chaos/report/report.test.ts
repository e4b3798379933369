import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { formatTerminalTable, writeReport } from '../../../../chaos/report/index.js';
import type { ExperimentResult } from '../../../../chaos/results.js';
import { syntheticResult } from './synthetic-result.js';

/** Each chart is a <figure id="chart-ID"> holding one inline SVG. */
function figures(html: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of html.matchAll(/<figure id="chart-([\w-]+)">([\s\S]*?)<\/figure>/g)) found.set(match[1]!, match[2]!);
  return found;
}

/** Drawn data marks: Vega gives every mark group a mark-<type> class; inside, paths with coordinates or lines. */
function drawnMarks(svg: string, markType: string): number {
  const groups = svg.split(`class="mark-${markType} role-mark`).slice(1);
  const shape = /<path [^>]*d="M[\d.-]+,[\d.-]+[^"]+"|<line /g;
  return groups.reduce((sum, group) => sum + (group.split('</g>')[0]!.match(shape)?.length ?? 0), 0);
}

/** Stroke colour of each dashed (event) rule. */
function ruleStrokes(svg: string): string[] {
  return [...svg.matchAll(/<line [^>]*stroke="(#[0-9a-f]+)"[^>]*stroke-dasharray="4,3"/g)].map((match) => match[1]!);
}

function rowOf(text: string, arm: string): string {
  const row = text.split('\n').find((line) => line.startsWith(`| ${arm} |`));
  if (!row) throw new Error(`no table row for arm ${arm} in:\n${text}`);
  return row;
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

t.test('writes report.md and report.html with one chart per view, drawn server-side', async (t) => {
  const dir = t.testdir();
  const result = syntheticResult({ seed: 7, arms: ['proxy', 'none', 'app', 'app+proxy'] });
  const { markdown, html } = await writeReport(join(dir, 'nested', 'run'), result);

  t.equal(await readFile(join(dir, 'nested', 'run', 'report.md'), 'utf8'), markdown, 'report.md holds the returned Markdown');
  t.equal(await readFile(join(dir, 'nested', 'run', 'report.html'), 'utf8'), html, 'report.html holds the returned HTML');

  const charts = figures(html);
  t.same([...charts.keys()], ['success-rate', 'latency', 'breaker', 'arrivals', 'arrivals-100ms', 'attempts']);
  t.equal((html.match(/<svg/g) ?? []).length, charts.size, 'exactly one <svg> per chart');
  for (const [id, figure] of charts) t.equal((figure.match(/<svg/g) ?? []).length, 1, `chart ${id} has one <svg>`);
  for (const id of ['success-rate', 'latency', 'arrivals']) {
    t.equal(drawnMarks(charts.get(id)!, 'line'), result.arms.length, `chart ${id} draws a line per arm`);
  }
  // kill and restore ran in every arm: drawn once, in black; what each arm saw on its own is drawn in the arm's colour
  const armColours = [...html.matchAll(/<span class="swatch" style="background:(#[0-9a-f]{6})">/g)].map((m) => m[1]!);
  for (const id of ['success-rate', 'latency', 'arrivals']) {
    const strokes = ruleStrokes(charts.get(id)!);
    t.equal(strokes.filter((stroke) => stroke === '#333').length, 2, `${id}: shared actions marked once`);
    t.same(strokes.filter((stroke) => armColours.includes(stroke)).sort(), [...armColours].sort(), `${id}: one arm-coloured marker per arm`);
  }
  t.equal(drawnMarks(charts.get('arrivals')!, 'rule'), 2 + result.arms.length + 1, 'arrivals chart adds the client load');
  t.ok(drawnMarks(charts.get('breaker')!, 'rect') > result.load.durationMs / 1000, 'breaker chart draws state bars');
  t.equal(drawnMarks(charts.get('arrivals-100ms')!, 'line'), result.arms.length, 'a 100 ms arrivals panel per arm');
  t.ok(drawnMarks(charts.get('attempts')!, 'rect') >= 3, 'attempt histogram bars');

  t.notMatch(html, /<script/i, 'no scripts: the page is static');
  const urls = html.match(/https?:\/\/[^\s"'<>)]+/g) ?? [];
  t.same(urls.filter((url) => !url.startsWith('http://www.w3.org/')), [], 'no URLs other than SVG namespaces');
  t.notMatch(html, /\b(src|href)=/, 'nothing is loaded from anywhere');
});

t.test('tables show every arm in a fixed order with the values of the run', async (t) => {
  const dir = t.testdir();
  const result = syntheticResult({ seed: 11, arms: ['proxy-budget', 'proxy', 'app+proxy', 'none', 'app'] });
  const { markdown, html } = await writeReport(dir, result);

  const summarySection = markdown.split('## Results per arm')[1]!.split('\n## ')[0]!;
  const summaryRows = summarySection.split('\n').filter((line) => /^\| [a-z]/.test(line));
  t.same(
    summaryRows.slice(1).map((line) => line.split('|')[1]!.trim()),
    ['none', 'app', 'proxy', 'app+proxy', 'proxy-budget'],
    'none, app, proxy, app+proxy, then variants',
  );
  for (const arm of result.arms) {
    const row = rowOf(markdown, arm.arm);
    const { summary } = arm;
    for (const value of [summary.count.toString(), percent(summary.successRate), Math.round(summary.p99).toString(), `${summary.amplification.toFixed(2)}x`]) {
      t.ok(row.includes(`| ${value} |`), `${arm.arm} row in report.md shows ${value}`);
      t.match(html, `<td class="right">${value}</td>`, `report.html shows ${arm.arm}'s ${value}`);
    }
    const judged = arm.arm !== 'none';
    const baselineCell = arm.hypothesis.passed ? '| held (baseline) |' : '| not held (baseline) |';
    t.ok(row.includes(judged ? (arm.hypothesis.passed ? '| PASS |' : '| FAIL |') : baselineCell), `${arm.arm} hypothesis cell`);
  }
  t.match(markdown, '## Attempts per call');
  const appHistogram = result.arms.find((arm) => arm.arm === 'app')!.attemptsHistogram!;
  t.match(markdown, `| ${appHistogram['4']} (`, 'attempt counts come from the run');
  t.match(markdown, /\| none \| 8\.0 \| kill-all \| backend \| SIGKILL 2 replicas \|/, 'action timeline lists the actions');
  t.match(markdown, `Seed:** ${result.seed}`);
  t.match(markdown, `${result.load.rate} req/s`);

  // The colour an arm has in the table is the colour its line has in every time chart.
  const swatches = [...html.matchAll(/<span class="swatch" style="background:(#[0-9a-f]{6})"><\/span>([^<]+)</g)];
  t.equal(new Set(swatches.map((match) => match[1])).size, result.arms.length, 'a distinct colour per arm');
  for (const match of swatches) {
    for (const [id, svg] of figures(html)) {
      if (['success-rate', 'latency', 'arrivals'].includes(id)) t.match(svg, `stroke="${match[1]}"`, `${match[2]} keeps its colour in ${id}`);
    }
  }
});

t.test('strings from the result are escaped, never markup', async (t) => {
  const dir = t.testdir();
  const hostile = '<script>alert("x")</script>';
  const result = syntheticResult({
    seed: 3,
    arms: ['none', 'proxy', 'app'],
    title: `Pod kill ${hostile}`,
    description: `Runs <img src=x onerror=alert(1)> & friends`,
    extraEvent: { t: 12_000, action: `note ${hostile}`, detail: '<b>bold</b> | pipe' },
  });
  const { markdown, html } = await writeReport(dir, result);

  t.notMatch(html, /<script/i);
  t.notMatch(html, /<img/i);
  t.notMatch(html, /<b>/);
  t.match(html, '<h1>Pod kill &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</h1>');
  t.match(html, 'Runs &lt;img src=x onerror=alert(1)&gt; &amp; friends');
  t.match(figures(html).get('success-rate')!, 'note &lt;script&gt;', 'event labels inside the charts are escaped too');
  t.notMatch(markdown, /<script|<img|<b>/);
  t.match(markdown, '&lt;b>bold&lt;/b> \\| pipe', 'a pipe in a cell does not split the Markdown table');
});

t.test('a result without optional fields still renders', async (t) => {
  const dir = t.testdir();
  const result: ExperimentResult = syntheticResult({
    seed: 5,
    arms: ['none', 'proxy'],
    withBreaker: false,
    withArrivals: false,
    withAttempts: false,
  });
  const { markdown, html } = await writeReport(dir, result);
  t.same([...figures(html).keys()], ['success-rate', 'latency', 'arrivals']);
  t.equal((html.match(/<svg/g) ?? []).length, 3);
  t.notMatch(markdown, 'Attempts per call');

  const bare = { ...result, arms: result.arms.map((arm) => ({ ...arm, events: [] })) };
  const { markdown: bareMarkdown, html: bareHtml } = await writeReport(dir, bare);
  t.match(bareMarkdown, 'No chaos actions were recorded.');
  t.equal((bareHtml.match(/<svg/g) ?? []).length, 3);
});

t.test('terminal table: aligned columns, PASS/FAIL per arm, a verdict line, no colours off a TTY', async (t) => {
  const result = syntheticResult({ seed: 9, arms: ['app', 'none', 'proxy', 'app+proxy'] });
  const table = formatTerminalTable(result);
  t.notMatch(table, /\x1b\[/, 'no ANSI colours when not asked for on a non-TTY stream');

  const lines = table.split('\n');
  const headerIndex = lines.findIndex((line) => line.startsWith('arm '));
  t.ok(headerIndex >= 0, 'has a header row');
  const header = lines[headerIndex]!;
  const rows = lines.slice(headerIndex + 1, headerIndex + 1 + result.arms.length);
  t.same(rows.map((row) => row.split(/\s+/)[0]), ['none', 'app', 'proxy', 'app+proxy']);

  // Every column ends where its header ends (right-aligned numbers), and the last column starts where its header does.
  const headers = header.split(/ {2,}/);
  let position = 0;
  for (const [i, name] of headers.entries()) {
    const start = header.indexOf(name, position);
    const end = start + name.length;
    position = end;
    for (const row of rows) {
      if (i === 0) continue; // the arm names, checked above
      if (i === headers.length - 1) t.match(row.slice(start), /^(PASS|FAIL|(not )?held \(baseline\))$/, `verdict cell under "${name}" in "${row}"`);
      else {
        t.not(row[end - 1], ' ', `"${name}" value ends at its header's end in "${row}"`);
        t.equal(row[end] ?? ' ', ' ', `"${name}" value does not run past its header in "${row}"`);
      }
    }
  }
  const verdicts = rows.map((row) => row.slice(header.indexOf('hypothesis')));
  t.ok(verdicts.includes('PASS') && verdicts.includes('FAIL'), 'shows both PASS and FAIL for this run');
  t.match(lines[lines.length - 1], result.passed ? /^Verdict: PASS/ : /^Verdict: FAIL - .*app/, 'ends with the verdict');

  const coloured = formatTerminalTable(result, { colour: true });
  t.match(coloured, '\x1b[32mPASS\x1b[0m');
  t.match(coloured, '\x1b[31mFAIL\x1b[0m');
});
