/**
 * A Prometheus counter for the request path. prom-client hashes the label set on every inc(), even through a bound
 * child, and that showed in profiles; here each series is a plain number that the request path bumps. It joins
 * prom-client's Registry as a metric of its own (name, help, type, get, reset) and writes its sample lines itself, each
 * cell's labels formatted once, so a scrape reads every count made before it and renders thousands of series a slice
 * at a time (see exposition.ts).
 */
import type { LabelValues, Metric, Registry } from 'prom-client';
import { formatLabels, type SampleLines } from './exposition.js';

export class CounterCell {
  value = 0;
  /** The sample line's prefix: metric name and formatted labels. */
  readonly series: string;

  constructor(
    readonly labels: LabelValues<string>,
    name: string,
  ) {
    this.series = `${name}${formatLabels(labels)} `;
  }

  inc(): void {
    this.value++;
  }
}

export interface HotCounterConfiguration<T extends string> {
  name: string;
  help: string;
  labelNames: readonly T[];
  registers: Registry[];
}

export class HotCounter<T extends string> implements SampleLines {
  readonly name: string;
  readonly help: string;
  /** As on prom-client's metrics: what dashboards and alert rules may aggregate by. */
  readonly labelNames: readonly T[];
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, CounterCell>();

  constructor(config: HotCounterConfiguration<T>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The cell of one label set, exported from the start (at 0); look it up once and keep it, the lookup builds a key. */
  cell(labels: LabelValues<T>): CounterCell {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new CounterCell(labels, this.name)));
    return cell;
  }

  /** Cells that differ only in `varying`, found by its value without building a key per update. */
  cellsBy(fixed: LabelValues<T>, varying: T): (value: string) => CounterCell {
    const cells = new Map<string, CounterCell>();
    return (value) => {
      let cell = cells.get(value);
      if (!cell) cells.set(value, (cell = this.cell({ ...fixed, [varying]: value } as LabelValues<T>)));
      return cell;
    };
  }

  *sampleLines(): Generator<string> {
    for (const cell of this.cells.values()) yield `${cell.series}${cell.value}\n`;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: LabelValues<string>; value: number }[] }> {
    const values = [...this.cells.values()].map((cell) => ({ labels: cell.labels, value: cell.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics(): every series back to zero. */
  reset(): void {
    for (const cell of this.cells.values()) cell.value = 0;
  }
}
