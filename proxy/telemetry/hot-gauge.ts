/**
 * A Prometheus gauge for series kept by the proxy, such as a breaker's state per route: on HotCounter's pattern, a
 * metric of its own in prom-client's Registry that writes its sample lines itself, each series' labels formatted when
 * it is set, so a scrape renders thousands of series a slice at a time (see exposition.ts). prom-client's Gauge lists
 * every series in one call, which at 10,000 routes held the event loop for tens of milliseconds.
 */
import type { LabelValues } from 'prom-client';
import { formatLabels, formatValue } from './exposition.js';
import { RenderedMetric, type ExportedValue, type RenderedMetricConfiguration } from './rendered-metric.js';

interface GaugeSeries {
  readonly labels: LabelValues<string>;
  /** The sample line's prefix: metric name and formatted labels. */
  readonly series: string;
  value: number;
}

export class HotGauge<T extends string> extends RenderedMetric<T> {
  private readonly series = new Map<string, GaugeSeries>();

  constructor(config: RenderedMetricConfiguration<T>) {
    super(config, 'gauge');
    this.register(config.registers);
  }

  set(labels: LabelValues<T>, value: number): void {
    const key = this.key(labels);
    const existing = this.series.get(key);
    if (existing) existing.value = value;
    else this.series.set(key, { labels, series: `${this.name}${formatLabels(labels)} `, value });
  }

  /** Stops exporting one series. */
  remove(labels: LabelValues<T>): void {
    this.series.delete(this.key(labels));
  }

  *sampleLines(): Generator<string> {
    for (const { series, value } of this.series.values()) yield `${series}${formatValue(value)}\n`;
  }

  protected values(): ExportedValue[] {
    return [...this.series.values()].map(({ labels, value }) => ({ labels, value }));
  }

  /** Registry.resetMetrics(): every series back to zero. */
  reset(): void {
    for (const series of this.series.values()) series.value = 0;
  }

  /** The same series whatever order the caller wrote the labels in. */
  private key(labels: LabelValues<T>): string {
    return this.labelNames.map((name) => String(labels[name])).join('\u0000');
  }
}
