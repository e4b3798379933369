// The chaos report API the runner calls after each experiment.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExperimentResult } from '../results.js';
import { renderCharts } from './charts.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

export { formatTerminalTable, type TerminalTableOptions } from './terminal.js';

/** Writes dir/report.md and dir/report.html (creating dir) and returns both texts. */
export async function writeReport(dir: string, result: ExperimentResult): Promise<{ markdown: string; html: string }> {
  const markdown = renderMarkdown(result);
  const html = renderHtml(result, await renderCharts(result));
  await mkdir(dir, { recursive: true });
  await Promise.all([writeFile(join(dir, 'report.md'), markdown), writeFile(join(dir, 'report.html'), html)]);
  return { markdown, html };
}
