// Which chaos events to mark on the time charts, with what label and colour, and on which label lane.
import type { ArmResult } from '../results.js';

export interface EventMarker {
  /** Seconds since arm start. */
  t: number;
  label: string;
  colour: string;
  /** Label row from the top; null when every row is taken there (the action timeline table still lists it). */
  lane: number | null;
}

export interface TimeAxis {
  /** The charts' time window; events after it are left to the action timeline table. */
  seconds: number;
  widthPx: number;
}

/** Occurrences of one action closer than this (across arms and targets) are drawn as one marker. */
const SAME_MOMENT_MS = 1000;
const NEUTRAL_COLOUR = '#333';
export const LABEL_LANES = 3;
/** Rough width of a 10 px label character, to keep labels on one lane from overlapping. */
const LABEL_CHAR_PX = 6;

interface Occurrence {
  arm: string;
  t: number;
  target?: string;
}

/**
 * Every arm replays the same scripted actions, and replicas tend to fail or come back together, so occurrences of an
 * action within a second are one marker: plain and black when every arm saw it, otherwise named after the arms that
 * did (in that arm's colour when it is just one). Several targets collapse into a count.
 */
/** `arms` in display order: labels name arms in that order. */
export function eventMarkers(arms: readonly ArmResult[], colours: ReadonlyMap<string, string>, axis: TimeAxis): EventMarker[] {
  const byAction = new Map<string, Occurrence[]>();
  for (const arm of arms) {
    for (const { t, action, target } of arm.events) {
      if (t < 0 || t > axis.seconds * 1000) continue;
      byAction.set(action, [...(byAction.get(action) ?? []), { arm: arm.arm, t, ...(target ? { target } : {}) }]);
    }
  }
  const markers = [...byAction].flatMap(([action, occurrences]) =>
    clusterByTime(occurrences).map((cluster) => markerFor(action, cluster, arms, colours)),
  );
  markers.sort((a, b) => a.t - b.t);
  return assignLanes(markers, axis.widthPx / axis.seconds);
}

function markerFor(
  action: string,
  cluster: Occurrence[],
  allArms: readonly ArmResult[],
  colours: ReadonlyMap<string, string>,
): Omit<EventMarker, 'lane'> {
  const targets = [...new Set(cluster.flatMap((occurrence) => (occurrence.target ? [occurrence.target] : [])))];
  const arms = allArms.map((arm) => arm.arm).filter((name) => cluster.some((occurrence) => occurrence.arm === name));
  const what = targets.length === 0 ? action : targets.length === 1 ? `${action} ${targets[0]}` : `${action} x${targets.length}`;
  const everyArm = allArms.length > 1 && arms.length === allArms.length;
  return {
    t: cluster[0]!.t / 1000,
    label: everyArm ? what : `${what} (${arms.join(', ')})`,
    colour: arms.length === 1 ? (colours.get(arms[0]!) ?? NEUTRAL_COLOUR) : NEUTRAL_COLOUR,
  };
}

function clusterByTime(occurrences: Occurrence[]): Occurrence[][] {
  const sorted = [...occurrences].sort((a, b) => a.t - b.t);
  const clusters: Occurrence[][] = [];
  for (const occurrence of sorted) {
    const current = clusters[clusters.length - 1];
    if (current && occurrence.t - current[0]!.t <= SAME_MOMENT_MS) current.push(occurrence);
    else clusters.push([occurrence]);
  }
  return clusters;
}

/** First lane whose previous label ends left of this one; markers must be sorted by time. */
function assignLanes(markers: Array<Omit<EventMarker, 'lane'>>, pixelsPerSecond: number): EventMarker[] {
  const laneFreeFrom: number[] = Array.from({ length: LABEL_LANES }, () => -Infinity);
  return markers.map((marker) => {
    const x = marker.t * pixelsPerSecond;
    const lane = laneFreeFrom.findIndex((free) => free <= x);
    if (lane === -1) return { ...marker, lane: null };
    laneFreeFrom[lane] = x + marker.label.length * LABEL_CHAR_PX + 8;
    return { ...marker, lane };
  });
}
