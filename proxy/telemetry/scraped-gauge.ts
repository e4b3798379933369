/**
 * A Prometheus gauge whose series are read from the proxy's state when scraped (a bulkhead's slots, an endpoint's
 * health) instead of being set on every change. It writes its sample lines as it reads them, so a scrape renders
 * thousands of series a slice at a time (see exposition.ts); prom-client's Gauge with a collect() callback would be
 * reset, set series by series and listed in one turn of the event loop.
 */
import type { LabelValues } from 'prom-client';
import { formatLabels, formatValue } from './exposition.js';
import { RenderedMetric, type ExportedValue, type RenderedMetricConfiguration } from './rendered-metric.js';

export interface ScrapedGaugeConfiguration<T extends string> extends RenderedMetricConfiguration<T> {
  /** Every series and its value now; called once per scrape. */
  read(): Iterable<readonly [LabelValues<T>, number]>;
}

export class ScrapedGauge<T extends string> extends RenderedMetric<T> {
  private readonly read: () => Iterable<readonly [LabelValues<T>, number]>;

  constructor(config: ScrapedGaugeConfiguration<T>) {
    super(config, 'gauge');
    this.read = config.read;
    this.register(config.registers);
  }

  *sampleLines(): Generator<string> {
    for (const [labels, value] of this.read()) yield `${this.name}${formatLabels(labels)} ${formatValue(value)}\n`;
  }

  protected values(): ExportedValue[] {
    return [...this.read()].map(([labels, value]) => ({ labels, value }));
  }

  /** Registry.resetMetrics(): nothing is kept here to reset. */
  reset(): void {}
}
