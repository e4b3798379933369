// Preloaded into Breakwater by bench/scrape/scrape-stall.ts (`--import` in NODE_OPTIONS): the proxy's event-loop delay at 1 ms
// resolution, finer than its own nodejs_eventloop_lag_* (100 ms). On SIGUSR2 it writes the delays recorded since the
// previous signal to $LOOP_DELAY_FILE as JSON, then starts afresh. Without that variable it does nothing.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelayReading {
  maxMs: number;
  p99Ms: number;
  p999Ms: number;
  samples: number;
}

const RESOLUTION_MS = 1;
const file = process.env.LOOP_DELAY_FILE;

if (file !== undefined) {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  // Each sample is the time between two timer ticks: the resolution plus the delay.
  const delayMs = (tickNs: number) => Math.max(0, tickNs / 1e6 - RESOLUTION_MS);
  process.on('SIGUSR2', () => {
    const reading: LoopDelayReading = {
      maxMs: delayMs(histogram.max),
      p99Ms: delayMs(histogram.percentile(99)),
      p999Ms: delayMs(histogram.percentile(99.9)),
      samples: histogram.count,
    };
    writeFileSync(file, JSON.stringify(reading));
    histogram.reset();
  });
}
