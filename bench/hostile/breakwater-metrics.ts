// What the hostile soak reads from Breakwater's own /metrics: bulkhead gauges, reload results, listener rejections.
import { parsePrometheusText, sumOf, type PromSample } from '../../chaos/prometheus-text.js';
import type { BulkheadGauge } from '../report/results.js';

const SCRAPE_TIMEOUT_MS = 2000;
const LISTENER_REJECTED = 'breakwater_listener_rejected_total';

export interface BreakwaterMetrics {
  bulkheads: BulkheadGauge[];
  reloads: { succeeded: number; failed: number };
  /** By "listener/reason"; null when the proxy does not export the metric. */
  listenerRejected: Record<string, number> | null;
}

/** Undefined when the admin server did not answer in time. */
export async function scrapeBreakwater(adminUrl: string): Promise<BreakwaterMetrics | undefined> {
  let text: string;
  try {
    const response = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    text = await response.text();
  } catch {
    return undefined;
  }
  const samples = parsePrometheusText(text);
  const reloadCount = (result: string): number =>
    sumOf(samples.filter((entry) => entry.labels.result === result), 'breakwater_config_reloads_total');
  return {
    bulkheads: bulkheadGauges(samples),
    reloads: { succeeded: reloadCount('success'), failed: reloadCount('failure') },
    // A counter with labels and no observation yet has no sample lines, only its TYPE line.
    listenerRejected: text.includes(`# TYPE ${LISTENER_REJECTED} `)
      ? Object.fromEntries(
          samples
            .filter((entry) => entry.name === LISTENER_REJECTED)
            .map((entry) => [`${entry.labels.listener}/${entry.labels.reason}`, entry.value]),
        )
      : null,
  };
}

function bulkheadGauges(samples: readonly PromSample[]): BulkheadGauge[] {
  const byKey = new Map<string, BulkheadGauge>();
  for (const entry of samples) {
    const field = entry.name === 'breakwater_bulkhead_active' ? 'active' : entry.name === 'breakwater_bulkhead_queued' ? 'queued' : undefined;
    if (field === undefined) continue;
    const scope = entry.labels.scope ?? '';
    const name = entry.labels.name ?? '';
    const key = `${scope}/${name}`;
    const gauge = byKey.get(key) ?? { scope, name, active: 0, queued: 0 };
    gauge[field] = entry.value;
    byKey.set(key, gauge);
  }
  return [...byKey.values()];
}
