/**
 * The nodejs_eventloop_lag_* gauges, measured as prom-client measures them but without the sampling period.
 * monitorEventLoopDelay records the time between two ticks of a repeating timer, which is the period plus the delay,
 * so prom-client's gauges read the period (0.1 s here) on an idle loop; here the period is taken off each statistic.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** The gauges' names and help, as prom-client's collectDefaultMetrics() registers them. */
export const EVENT_LOOP_LAG_GAUGES = {
  nodejs_eventloop_lag_seconds: 'Lag of event loop in seconds.',
  nodejs_eventloop_lag_min_seconds: 'The minimum recorded event loop delay.',
  nodejs_eventloop_lag_max_seconds: 'The maximum recorded event loop delay.',
  nodejs_eventloop_lag_mean_seconds: 'The mean of the recorded event loop delays.',
  nodejs_eventloop_lag_stddev_seconds: 'The standard deviation of the recorded event loop delays.',
  nodejs_eventloop_lag_p50_seconds: 'The 50th percentile of the recorded event loop delays.',
  nodejs_eventloop_lag_p90_seconds: 'The 90th percentile of the recorded event loop delays.',
  nodejs_eventloop_lag_p99_seconds: 'The 99th percentile of the recorded event loop delays.',
} as const;

type LagGauge = keyof typeof EVENT_LOOP_LAG_GAUGES;

/**
 * Registers the gauges on `registry`, sampling the loop every `sampleMs`. Each scrape reads the delays recorded since
 * the one before; nodejs_eventloop_lag_seconds is how late a setImmediate queued by the scrape ran, shown by the next.
 */
export function registerEventLoopLag(registry: Registry, sampleMs: number): void {
  const histogram = monitorEventLoopDelay({ resolution: sampleMs });
  histogram.enable();
  const periodNs = sampleMs * 1e6;
  const delaySeconds = (tickNs: number) => Math.max(0, tickNs - periodNs) / 1e9;

  const gauge = (name: LagGauge, collect?: () => void) => new Gauge({ name, help: EVENT_LOOP_LAG_GAUGES[name], registers: [registry], collect });
  // One collect sets them all; registered first, so a scrape reads the statistics it sets (metrics are read in order).
  const lag: Gauge = gauge('nodejs_eventloop_lag_seconds', () => {
    const start = process.hrtime.bigint();
    setImmediate(() => lag.set(Number(process.hrtime.bigint() - start) / 1e9));
    if (histogram.count === 0) return; // no tick since the last scrape: keep what it showed
    min.set(delaySeconds(histogram.min));
    max.set(delaySeconds(histogram.max));
    mean.set(delaySeconds(histogram.mean));
    stddev.set(histogram.stddev / 1e9);
    p50.set(delaySeconds(histogram.percentile(50)));
    p90.set(delaySeconds(histogram.percentile(90)));
    p99.set(delaySeconds(histogram.percentile(99)));
    histogram.reset();
  });
  const min = gauge('nodejs_eventloop_lag_min_seconds');
  const max = gauge('nodejs_eventloop_lag_max_seconds');
  const mean = gauge('nodejs_eventloop_lag_mean_seconds');
  const stddev = gauge('nodejs_eventloop_lag_stddev_seconds');
  const p50 = gauge('nodejs_eventloop_lag_p50_seconds');
  const p90 = gauge('nodejs_eventloop_lag_p90_seconds');
  const p99 = gauge('nodejs_eventloop_lag_p99_seconds');
}
