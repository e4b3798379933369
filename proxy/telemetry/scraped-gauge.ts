/**
 * A Prometheus gauge whose series are read from the proxy's state when scraped (a bulkhead's slots, an endpoint's
 * health) instead of being set on every change. It writes its sample lines as it reads them, so a scrape renders
 * thousands of series a slice at a time (see exposition.ts); prom-client's Gauge with a collect() callback would be
 * reset, set series by series and listed in one turn of the event loop.
 */
import type { LabelValues, Metric, Registry } from 'prom-client';
import { formatLabels, formatValue, type SampleLines } from './exposition.js';

export interface ScrapedGaugeConfiguration<T extends string> {
  name: string;
  help: string;
  labelNames: readonly T[];
  registers: Registry[];
  /** Every series and its value now; called once per scrape. */
  read(): Iterable<readonly [LabelValues<T>, number]>;
}

export class ScrapedGauge<T extends string> implements SampleLines {
  readonly name: string;
  readonly help: string;
  /** As on prom-client's metrics: what dashboards and alert rules may aggregate by. */
  readonly labelNames: readonly T[];
  readonly type = 'gauge';
  readonly aggregator = 'sum';
  private readonly read: () => Iterable<readonly [LabelValues<T>, number]>;

  constructor(config: ScrapedGaugeConfiguration<T>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    this.read = config.read;
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  *sampleLines(): Generator<string> {
    for (const [labels, value] of this.read()) yield `${this.name}${formatLabels(labels)} ${formatValue(value)}\n`;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: LabelValues<T>; value: number }[] }> {
    const values = [...this.read()].map(([labels, value]) => ({ labels, value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics(): nothing is kept here to reset. */
  reset(): void {}
}
