/**
 * What the proxy's own metric types (HotCounter, HotHistogram, HotGauge, ScrapedGauge) share: they join prom-client's
 * Registry as metrics of their own (name, help, type, get, reset) and write their sample lines themselves, so a scrape
 * renders thousands of series a slice at a time (see exposition.ts).
 */
import type { LabelValues, Metric, Registry } from 'prom-client';
import type { SampleLines } from './exposition.js';

export interface RenderedMetricConfiguration<T extends string> {
  name: string;
  help: string;
  labelNames: readonly T[];
  registers: Registry[];
}

export interface ExportedValue {
  labels: LabelValues<string>;
  value: number;
  metricName?: string;
}

export abstract class RenderedMetric<T extends string> implements SampleLines {
  readonly name: string;
  readonly help: string;
  /** As on prom-client's metrics: what dashboards and alert rules may aggregate by. */
  readonly labelNames: readonly T[];
  readonly aggregator = 'sum';

  constructor(
    config: RenderedMetricConfiguration<T>,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
  }

  /** Joins the registries; called by each subclass once its own fields are set. */
  protected register(registers: Registry[]): void {
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  abstract sampleLines(): Iterable<string>;

  /** Every series as prom-client's get() lists them (read by tests and by Registry.getMetricsAsJSON). */
  protected abstract values(): ExportedValue[];

  /** Registry.resetMetrics(). */
  abstract reset(): void;

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
}
