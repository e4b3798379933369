import t from 'tap';
import { eventMarkers, LABEL_LANES } from '../../../../chaos/report/event-markers.js';
import type { ArmEvent, ArmResult } from '../../../../chaos/results.js';
import { syntheticResult } from './synthetic-result.js';

/** Synthetic arms carrying just the given events. */
function armsWithEvents(eventsByArm: Record<string, ArmEvent[]>): ArmResult[] {
  const result = syntheticResult({ seed: 1, arms: Object.keys(eventsByArm) });
  return result.arms.map((arm) => ({ ...arm, events: eventsByArm[arm.arm]! }));
}

const colours = new Map([
  ['none', '#111111'],
  ['app', '#222222'],
  ['proxy', '#333333'],
]);
const axis = { seconds: 60, widthPx: 1200 };
const withoutLanes = (markers: ReturnType<typeof eventMarkers>) => markers.map(({ t, label, colour }) => ({ t, label, colour }));

t.test('one marker per moment: black when every arm saw it, else named after its arms', async (t) => {
  const arms = armsWithEvents({
    none: [
      { t: 5_000, action: 'kill', target: 'backend/all' },
      { t: 6_200, action: 'endpoint-not-ready', target: 'backend/0' },
      { t: 6_300, action: 'endpoint-not-ready', target: 'backend/1' },
      { t: 30_000, action: 'restarted', target: 'backend/0' },
    ],
    app: [
      { t: 5_020, action: 'kill', target: 'backend/all' },
      { t: 6_150, action: 'endpoint-not-ready', target: 'backend/0' },
      { t: 21_000, action: 'restarted', target: 'backend/0' },
    ],
    proxy: [{ t: 5_900, action: 'kill', target: 'backend/all' }, { t: 75_000, action: 'restarted', target: 'backend/0' }],
  });
  t.same(withoutLanes(eventMarkers(arms, colours, axis)), [
    { t: 5, label: 'kill backend/all', colour: '#333' },
    { t: 6.15, label: 'endpoint-not-ready x2 (none, app)', colour: '#333' },
    { t: 21, label: 'restarted backend/0 (app)', colour: '#222222' },
    { t: 30, label: 'restarted backend/0 (none)', colour: '#111111' },
  ], 'the restart after the charted window is left out');
});

t.test('labels that would overlap go to the next lane; when all lanes are taken the label is dropped', async (t) => {
  const crowded = Array.from({ length: LABEL_LANES + 1 }, (_, i) => ({ t: 10_000 + i * 1500, action: `action-${i}` }));
  const spaced = { t: 40_000, action: 'restore' };
  const markers = eventMarkers(armsWithEvents({ proxy: [...crowded, spaced] }), colours, axis);
  t.same(
    markers.map((marker) => marker.lane),
    [...Array.from({ length: LABEL_LANES }, (_, lane) => lane), null, 0],
  );
});
