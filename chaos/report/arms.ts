// Arm order and colours shared by every table and chart, so one arm looks the same everywhere.
import type { ArmResult } from '../results.js';

/** Baseline first, then resilience in the app, in the sidecar, and both: the order a reader compares them in. */
const KNOWN_ARM_ORDER = ['none', 'app', 'proxy', 'app+proxy'];

const KNOWN_ARM_COLOURS: Record<string, string> = {
  none: '#7f7f7f',
  app: '#e6850e',
  proxy: '#1f6fb4',
  'app+proxy': '#8c4fb8',
};

/** For arms outside the known four (e.g. proxy variants), assigned in display order. */
const EXTRA_ARM_COLOURS = ['#2a9d4b', '#b5464b', '#17a2b8', '#a67c00', '#d45fa8', '#5c6bc0'];

/** Known arms in their fixed order; any other arm after them, in the order the result lists them. */
export function orderArms(arms: readonly ArmResult[]): ArmResult[] {
  const rank = (arm: string): number => {
    const known = KNOWN_ARM_ORDER.indexOf(arm);
    return known === -1 ? KNOWN_ARM_ORDER.length : known;
  };
  return arms
    .map((arm, index) => ({ arm, index }))
    .sort((a, b) => rank(a.arm.arm) - rank(b.arm.arm) || a.index - b.index)
    .map(({ arm }) => arm);
}

/** Colour per arm name, for arms already in display order. */
export function armColours(orderedArmNames: readonly string[]): Map<string, string> {
  const colours = new Map<string, string>();
  let extra = 0;
  for (const name of orderedArmNames) {
    colours.set(name, KNOWN_ARM_COLOURS[name] ?? EXTRA_ARM_COLOURS[extra++ % EXTRA_ARM_COLOURS.length]!);
  }
  return colours;
}

/** Optional per-arm data the report shows only when a run recorded it. */
export function hasAttemptsHistogram(arm: ArmResult): boolean {
  return arm.attemptsHistogram !== undefined && Object.keys(arm.attemptsHistogram).length > 0;
}

export function hasArrivals(arm: ArmResult): boolean {
  return arm.arrivals !== undefined && arm.arrivals.length > 0;
}

/** Breaker samples of an arm that has a breaker (a sidecar without one still reports the route as closed). */
export function hasBreakerState(arm: ArmResult): boolean {
  return arm.settings?.breaker !== false && arm.timeline.some((bucket) => bucket.breakerState !== undefined);
}
