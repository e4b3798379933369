// The report's charts as Vega-Lite specs: one concern per chart, shared arm colours and event markers.
import type { TopLevelSpec } from 'vega-lite';
import type { ArmResult, ExperimentResult } from '../results.js';
import { armColours, hasArrivals, hasAttemptsHistogram, hasBreakerState, orderArms } from './arms.js';
import { eventMarkers, LABEL_LANES, type EventMarker } from './event-markers.js';
import { renderVegaLiteToSvg } from './render-svg.js';

export interface Chart {
  id: string;
  title: string;
  /** What to look for, shown under the chart. */
  caption: string;
  svg: string;
}

const TIMELINE_BUCKET_S = 1;
const WIDTH = 820;
const HEIGHT = 190;
const TIME_AXIS = { title: 'seconds since arm start' };
/** Distinct dash patterns keep arms apart on a black-and-white printout too. */
const DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [10, 4], [3, 5]];
/** Colour and dash share one legend, so each arm's entry shows both as a line sample. */
const ARM_LEGEND = { title: 'arm', orient: 'bottom', direction: 'horizontal', symbolType: 'stroke', symbolStrokeWidth: 2 } as const;
const BREAKER_STATES = ['closed', 'half_open', 'open'];
const BREAKER_COLOURS = ['#3c9a5f', '#f2c230', '#c0392b'];

type Row = Record<string, string | number>;

interface ChartContext {
  arms: ArmResult[];
  armNames: string[];
  armColours: ReadonlyMap<string, string>;
  events: EventMarker[];
  /** Time axis in seconds, the same on every chart so they line up when read top to bottom. */
  time: { field: 't'; type: 'quantitative'; scale: { domain: number[]; nice: false } };
  colour: { scale: { domain: string[]; range: string[] }; legend: typeof ARM_LEGEND };
  dash: { scale: { domain: string[]; range: number[][] }; legend: typeof ARM_LEGEND };
}

/** Seconds the load ran: the time window of every chart. */
function loadSeconds(result: ExperimentResult): number {
  const bucketEnds = result.arms.flatMap((arm) => arm.timeline.map((bucket) => bucket.t + TIMELINE_BUCKET_S * 1000));
  return Math.ceil(Math.max(result.load.durationMs, ...bucketEnds) / 1000);
}

function chartContext(result: ExperimentResult): ChartContext {
  const arms = orderArms(result.arms);
  const armNames = arms.map((arm) => arm.arm);
  const colours = armColours(armNames);
  const seconds = loadSeconds(result);
  return {
    arms,
    armNames,
    armColours: colours,
    events: eventMarkers(arms, colours, { seconds, widthPx: WIDTH }),
    time: { field: 't', type: 'quantitative', scale: { domain: [0, seconds], nice: false } },
    colour: { scale: { domain: armNames, range: armNames.map((name) => colours.get(name)!) }, legend: ARM_LEGEND },
    dash: { scale: { domain: armNames, range: armNames.map((_, i) => DASHES[i % DASHES.length]!) }, legend: ARM_LEGEND },
  };
}

/** Height of one label lane above the plot: labels sit there, never on the data or on each other. */
const LANE_PX = 12;

/** A vertical rule per event marker over a time chart; labels on lanes above the plot unless the chart is too busy. */
function eventLayers(context: ChartContext, labelled = true): object[] {
  if (context.events.length === 0) return [];
  // scale: null uses the marker's own colour value as is.
  const colour = { field: 'colour', type: 'nominal', scale: null };
  const rule = {
    data: { values: context.events },
    mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1 },
    encoding: { x: context.time, color: colour },
  };
  if (!labelled) return [rule];
  const labels = Array.from({ length: LABEL_LANES }, (_, lane) => context.events.filter((event) => event.lane === lane))
    .map((events, lane) => ({
      data: { values: events },
      mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 2, y: -4 - lane * LANE_PX, fontSize: 10 },
      encoding: { x: context.time, text: { field: 'label' }, color: colour },
    }))
    .filter((layer) => layer.data.values.length > 0);
  return [rule, ...labels];
}

/** Layers in drawing order, then the action markers on top. */
function timeChart(context: ChartContext, layers: object[]): TopLevelSpec {
  return {
    width: WIDTH,
    height: HEIGHT,
    layer: [...layers, ...eventLayers(context)],
  } as TopLevelSpec;
}

/** One point per arm per 1 s bucket with requests, placed at the bucket's middle. */
function timelineRows(context: ChartContext): Row[] {
  return context.arms.flatMap((arm) =>
    arm.timeline
      .filter((bucket) => bucket.requests > 0)
      .map((bucket) => ({
        arm: arm.arm,
        t: bucket.t / 1000 + TIMELINE_BUCKET_S / 2,
        successRate: bucket.successRate,
        p99: bucket.p99,
      })),
  );
}

function armLine(context: ChartContext, rows: Row[], y: object): object {
  return {
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: { ...context.time, axis: TIME_AXIS },
      y,
      color: { field: 'arm', type: 'nominal', ...context.colour },
      strokeDash: { field: 'arm', type: 'nominal', ...context.dash },
    },
  };
}

function successRateChart(context: ChartContext): TopLevelSpec {
  return timeChart(context, [
    armLine(context, timelineRows(context), {
      field: 'successRate',
      type: 'quantitative',
      scale: { domain: [0, 1] },
      axis: { title: 'success rate', format: '%' },
    }),
  ]);
}

/** Ticks at 1, 10, 100... spanning the values: the default log ticks crowd into an unreadable column. */
function powersOfTen(values: number[]): number[] {
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.ceil(Math.log10(Math.max(...values)));
  return Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i));
}

function latencyChart(context: ChartContext): TopLevelSpec {
  // A log scale cannot place 0 ms; a bucket with a 0 ms p99 has no latency to show.
  const rows = timelineRows(context).filter((row) => Number(row.p99) > 0);
  const ticks = rows.length > 0 ? powersOfTen(rows.map((row) => Number(row.p99))) : [1, 10, 100, 1000];
  return timeChart(context, [
    armLine(context, rows, {
      field: 'p99',
      type: 'quantitative',
      scale: { type: 'log', domain: [ticks[0], ticks[ticks.length - 1]] },
      axis: { title: 'p99 latency (ms, log)', values: ticks, format: '~s' },
    }),
  ]);
}

function breakerChart(context: ChartContext): TopLevelSpec {
  const rows = context.arms.filter(hasBreakerState).flatMap((arm) =>
    arm.timeline
      .filter((bucket) => bucket.breakerState !== undefined)
      .map((bucket) => ({
        arm: arm.arm,
        t: bucket.t / 1000,
        tEnd: bucket.t / 1000 + TIMELINE_BUCKET_S,
        state: bucket.breakerState!,
      })),
  );
  const armsWithBreaker = context.armNames.filter((name) => rows.some((row) => row.arm === name));
  return {
    width: WIDTH,
    height: 28 * armsWithBreaker.length,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'rect' },
        encoding: {
          x: { ...context.time, axis: TIME_AXIS },
          x2: { field: 'tEnd' },
          y: { field: 'arm', type: 'nominal', sort: armsWithBreaker, axis: { title: null } },
          color: {
            field: 'state',
            type: 'nominal',
            scale: { domain: BREAKER_STATES, range: BREAKER_COLOURS },
            legend: { title: 'breaker', orient: 'top' },
          },
        },
      },
      // Labels would sit on the coloured bars; the time charts above carry them.
      ...eventLayers(context, false),
    ],
  } as TopLevelSpec;
}

function arrivalsPerSecondChart(context: ChartContext, rate: number): TopLevelSpec {
  const rows = context.arms.flatMap((arm) =>
    arm.timeline.map((bucket) => ({ arm: arm.arm, t: bucket.t / 1000 + TIMELINE_BUCKET_S / 2, arrivals: bucket.backendArrivals })),
  );
  return timeChart(context, [
    // A wide pale band under the lines: the client load, unlike any arm's line.
    {
      data: { values: [{ rate }] },
      mark: { type: 'rule', color: '#9ecae1', strokeWidth: 7, opacity: 0.6 },
      encoding: { y: { field: 'rate', type: 'quantitative' } },
    },
    armLine(context, rows, { field: 'arrivals', type: 'quantitative', axis: { title: 'backend requests / s' } }),
  ]);
}

/** One small panel per arm: overlaid 100 ms series are too dense to tell a retry spike from noise. */
function arrivalsPer100msChart(context: ChartContext): TopLevelSpec {
  const armsWithArrivals = context.arms.filter(hasArrivals);
  return {
    vconcat: armsWithArrivals.map((arm, index) => ({
      width: WIDTH,
      height: 70,
      title: { text: arm.arm, anchor: 'start', fontSize: 12 },
      layer: [
        {
          data: { values: arm.arrivals!.map((bucket) => ({ t: bucket.t / 1000, count: bucket.count })) },
          mark: { type: 'line', strokeWidth: 1.2, interpolate: 'step-after', color: context.armColours.get(arm.arm) },
          encoding: {
            // One time-axis title under the last panel is enough.
            x: { ...context.time, axis: index === armsWithArrivals.length - 1 ? TIME_AXIS : { title: null } },
            y: { field: 'count', type: 'quantitative', axis: { title: 'per 100 ms', tickCount: 3 } },
          },
        },
        ...eventLayers(context, false),
      ],
    })),
    resolve: { scale: { y: 'shared' } },
  } as TopLevelSpec;
}

function attemptsChart(context: ChartContext): TopLevelSpec {
  const arms = context.arms.filter(hasAttemptsHistogram);
  const rows = arms.flatMap((arm) => {
    const histogram = Object.entries(arm.attemptsHistogram!);
    const calls = histogram.reduce((sum, [, count]) => sum + count, 0);
    return histogram.map(([attempts, count]) => ({ arm: arm.arm, attempts: Number(attempts), share: count / calls }));
  });
  const names = arms.map((arm) => arm.arm);
  return {
    width: { step: 14 * names.length + 10 },
    height: HEIGHT,
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'attempts', type: 'ordinal', sort: 'ascending', axis: { title: 'attempts per call', labelAngle: 0 } },
      xOffset: { field: 'arm', type: 'nominal', sort: names },
      y: { field: 'share', type: 'quantitative', axis: { title: 'share of calls', format: '%' } },
      color: { field: 'arm', type: 'nominal', scale: { domain: names, range: names.map((name) => context.armColours.get(name)!) }, legend: { title: 'arm', orient: 'top' } },
    },
  } as TopLevelSpec;
}

interface ChartPlan {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

function planCharts(result: ExperimentResult, context: ChartContext): ChartPlan[] {
  const plans: ChartPlan[] = [
    {
      id: 'success-rate',
      title: 'Success rate over time',
      caption: 'Share of client requests answered 2xx per 1 s bucket. Dashed lines mark events: black when every arm saw them, otherwise labelled with the arms (in the arm\'s colour for one arm).',
      spec: successRateChart(context),
    },
    {
      id: 'latency',
      title: 'p99 latency over time',
      caption: 'Tail latency per 1 s bucket on a log scale: fast-fails drop it, waiting on dead backends lifts it.',
      spec: latencyChart(context),
    },
  ];
  if (context.arms.some(hasBreakerState)) {
    plans.push({
      id: 'breaker',
      title: 'Circuit breaker state',
      caption: 'Breaker state per 1 s bucket, as the sidecar reports it, for the arms whose sidecar has a breaker (the app arm\'s opossum breaker is not sampled: its fast-fails show it); blank where no sample was taken.',
      spec: breakerChart(context),
    });
  }
  plans.push({
    id: 'arrivals',
    title: 'Backend arrivals per second',
    caption: `Requests the backends received. The pale blue band is the client load (${result.load.rate} req/s): above it, retries amplify the traffic.`,
    spec: arrivalsPerSecondChart(context, result.load.rate),
  });
  if (context.arms.some(hasArrivals)) {
    plans.push({
      id: 'arrivals-100ms',
      title: 'Backend arrivals per 100 ms',
      caption: 'Fine-grained arrivals: synchronised retries show as spikes, jitter and budgets flatten them.',
      spec: arrivalsPer100msChart(context),
    });
  }
  if (context.arms.some(hasAttemptsHistogram)) {
    plans.push({
      id: 'attempts',
      title: 'Attempts per call',
      caption: 'How many backend attempts each client call took (0 = fast-failed without reaching one); retries in both app and proxy multiply.',
      spec: attemptsChart(context),
    });
  }
  return plans;
}

export async function renderCharts(result: ExperimentResult): Promise<Chart[]> {
  const plans = planCharts(result, chartContext(result));
  return Promise.all(
    plans.map(async ({ id, title, caption, spec }) => ({
      id,
      title,
      caption,
      svg: await renderVegaLiteToSvg({ ...spec, config: { font: 'Helvetica, Arial, sans-serif', view: { stroke: '#ddd' } } } as TopLevelSpec),
    })),
  );
}
