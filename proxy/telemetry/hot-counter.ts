/**
 * A Prometheus counter for the request path. prom-client hashes the label set on every inc(), even through a bound
 * child, and that showed in profiles; here each series is a plain number that the request path bumps, added to the
 * prom-client counter when the registry is collected (a scrape), so exported values are exact at every scrape.
 */
import { Counter, type CounterConfiguration, type LabelValues } from 'prom-client';

export class CounterCell {
  pending = 0;
  constructor(readonly labels: LabelValues<string>) {}

  inc(): void {
    this.pending++;
  }
}

export class HotCounter<T extends string> {
  readonly counter: Counter<T>;
  private readonly cells = new Map<string, CounterCell>();

  constructor(config: Omit<CounterConfiguration<T>, 'collect'>) {
    this.counter = new Counter<T>({ ...config, collect: () => this.flush() });
  }

  /** The cell of one label set; look it up once and keep it, the lookup builds a key. */
  cell(labels: LabelValues<T>): CounterCell {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = new CounterCell(labels);
      this.cells.set(key, cell);
      this.counter.inc(labels, 0); // the series exists from the start, at 0
    }
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

  private flush(): void {
    for (const cell of this.cells.values()) {
      if (cell.pending === 0) continue;
      this.counter.inc(cell.labels as LabelValues<T>, cell.pending);
      cell.pending = 0;
    }
  }
}
