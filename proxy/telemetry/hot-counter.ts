/**
 * A Prometheus counter for the request path. prom-client hashes the label set on every inc(), even through a bound
 * child, a cost paid on every request; here each series is a plain number that the request path bumps. It joins
 * prom-client's Registry as a metric of its own (name, help, type, get, reset) and writes its sample lines itself, each
 * cell's labels formatted once, so a scrape reads every count made before it and renders thousands of series a slice
 * at a time (see exposition.ts).
 */
import type { LabelValues } from 'prom-client';
import { formatLabels } from './exposition.js';
import { RenderedMetric, type ExportedValue, type RenderedMetricConfiguration } from './rendered-metric.js';

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

export class HotCounter<T extends string> extends RenderedMetric<T> {
  private readonly cells = new Map<string, CounterCell>();

  constructor(config: RenderedMetricConfiguration<T>) {
    super(config, 'counter');
    this.register(config.registers);
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

  protected values(): ExportedValue[] {
    return [...this.cells.values()].map((cell) => ({ labels: cell.labels, value: cell.value }));
  }

  /** Registry.resetMetrics(): every series back to zero. */
  reset(): void {
    for (const cell of this.cells.values()) cell.value = 0;
  }
}
