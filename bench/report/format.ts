// Number formatting shared by the goal texts and the markdown tables.
import type { BulkheadGauge } from './results.js';

export function formatUs(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return '-';
  // Differences (added latency) can be negative when the proxy run was luckier than direct.
  const sign = us < 0 ? '-' : '';
  const magnitude = Math.abs(us);
  if (magnitude < 1000) return `${sign}${Math.round(magnitude)} us`;
  return `${sign}${(magnitude / 1000).toFixed(magnitude < 10_000 ? 2 : 1)} ms`;
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatRatio(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}x`;
}

/** "route api 2/0, upstream backend 3/1": active/queued of every bulkhead. */
export function bulkheadSummary(gauges: readonly BulkheadGauge[] | null): string {
  return gauges === null ? 'not read' : gauges.map((gauge) => `${gauge.scope} ${gauge.name} ${gauge.active}/${gauge.queued}`).join(', ');
}
