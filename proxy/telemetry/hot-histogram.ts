/**
 * A Prometheus histogram for the request path, on HotCounter's pattern: prom-client validates and hashes the label set
 * on every observe(), even through labels(), so here each series is a few plain numbers that the request path bumps
 * and a scrape reads. It joins prom-client's Registry as a metric of its own (name, help, type, get, reset) and
 * exports exactly the series prom-client's Histogram would: cumulative _bucket{le} including +Inf, _sum and _count,
 * writing their sample lines itself so that a scrape renders thousands of series a slice at a time (see exposition.ts).
 */
import type { LabelValues } from 'prom-client';
import { formatLabels, formatValue } from './exposition.js';
import { RenderedMetric, type ExportedValue, type RenderedMetricConfiguration } from './rendered-metric.js';

export class HistogramCell {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** The labels formatted once, for the sample lines: `{a="x",b="y"}`, or '' for none. */
  readonly labelText: string;

  constructor(
    readonly labels: LabelValues<string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    this.labelText = formatLabels(labels);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.counts[index]!++;
    this.sum += value;
    this.count++;
  }
}

export interface HotHistogramConfiguration<T extends string> extends RenderedMetricConfiguration<T> {
  buckets: readonly number[];
}

/** Its labelNames are what dashboards may aggregate by besides le. */
export class HotHistogram<T extends string> extends RenderedMetric<T> {
  private readonly buckets: readonly number[];
  private readonly cells = new Map<string, HistogramCell>();

  constructor(config: HotHistogramConfiguration<T>) {
    super(config, 'histogram');
    this.buckets = [...config.buckets].sort((a, b) => a - b);
    this.register(config.registers);
  }

  /** The cell of one label set; look it up once and keep it, the lookup builds a key. */
  cell(labels: LabelValues<T>): HistogramCell {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new HistogramCell(labels, this.buckets)));
    return cell;
  }

  *sampleLines(): Generator<string> {
    const bucket = `${this.name}_bucket{le="`;
    for (const cell of this.cells.values()) {
      // prom-client puts le first: `{le="0.1",route="a"}`.
      const rest = cell.labelText === '' ? '"}' : `",${cell.labelText.slice(1)}`;
      let cumulative = 0;
      let lines = '';
      this.buckets.forEach((le, index) => {
        cumulative += cell.counts[index]!;
        lines += `${bucket}${le}${rest} ${cumulative}\n`;
      });
      yield `${lines}${bucket}+Inf${rest} ${cell.count}\n${this.name}_sum${cell.labelText} ${formatValue(cell.sum)}\n${this.name}_count${cell.labelText} ${cell.count}\n`;
    }
  }

  protected values(): ExportedValue[] {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const cell of this.cells.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, index) => {
        cumulative += cell.counts[index]!;
        values.push({ labels: { le, ...cell.labels }, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { le: '+Inf', ...cell.labels }, value: cell.count, metricName: bucket },
        { labels: cell.labels, value: cell.sum, metricName: `${this.name}_sum` },
        { labels: cell.labels, value: cell.count, metricName: `${this.name}_count` },
      );
    }
    return values;
  }

  /** Registry.resetMetrics(): every series back to zero. */
  reset(): void {
    for (const cell of this.cells.values()) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
}
