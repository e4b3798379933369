import t from 'tap';
import { Clock } from '../../../proxy/core/clock.js';
import { waitFor, within } from '../../helpers/wait-for.js';

t.test('the shared clock fires timers in order, never early, and cancels', async (t) => {
  const clock = new Clock();
  // The clock's interval is unref'd (a proxy's sockets keep the process alive); hold the loop open for the test.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const fired: string[] = [];
  const start = clock.time();
  const done = new Promise<void>((resolve) => {
    clock.after(30, () => fired.push('b'));
    clock.after(10, () => fired.push('a'));
    clock.after(20, () => fired.push('cancelled')).cancel();
    clock.after(40, () => {
      fired.push('c');
      resolve();
    });
  });
  await done;
  t.same(fired, ['a', 'b', 'c']);
  t.ok(clock.time() - start >= 40, 'not early');
  // A timer further out than one turn of the wheel (512 × 5 ms) waits its turn.
  const far = clock.time() + 2700;
  let farFiredAt = 0;
  await new Promise<void>((resolve) => clock.at(far, () => ((farFiredAt = clock.time()), resolve())));
  t.ok(farFiredAt >= far, 'a long timer is not fired on an earlier turn');
});

t.test('cancelled timers never fire, even cancelled by another callback of the same tick', async (t) => {
  let now = 0;
  const clock = new Clock(() => now);
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const fired: string[] = [];
  // Ten timers in one slot of the wheel, three cancelled up front.
  const timers = Array.from({ length: 10 }, (_, i) => clock.at(10, () => fired.push(`t${i}`)));
  for (const i of [0, 4, 9]) timers[i]!.cancel();
  // Two more due in the same tick, each cancelling the other: whichever runs first wins.
  const pair: Array<{ cancel(): void }> = [];
  pair.push(clock.at(10, () => (fired.push('x'), pair[1]!.cancel())));
  pair.push(clock.at(10, () => (fired.push('y'), pair[0]!.cancel())));
  timers[1]!.cancel(); // cancelling twice, or after others moved in the slot, is harmless
  timers[1]!.cancel();
  const sentinel = new Promise<void>((resolve) => clock.at(30, () => (fired.push('sentinel'), resolve())));
  now = 40;
  await Promise.race([sentinel, new Promise((_, reject) => setTimeout(() => reject(new Error('the wheel did not advance within 2 s')), 2000))]);
  t.same(fired.filter((f) => f.startsWith('t')).sort(), ['t2', 't3', 't5', 't6', 't7', 't8'], 'every live timer fired once, no cancelled one');
  t.equal(fired.filter((f) => f === 'x' || f === 'y').length, 1, 'of two timers cancelling each other, one fired');
  t.equal(fired.at(-1), 'sentinel', 'the later tick ran after the earlier one');
});

t.test('after() counts from the clock\'s own now; a time already past fires on the next tick', async (t) => {
  let now = 1000;
  const clock = new Clock(() => now);
  t.equal(clock.time(), 1000);
  const fired: string[] = [];
  const until = (at: number) => within(new Promise<void>((resolve) => clock.at(at, resolve)), 2000, `the clock to reach ${at}`);
  clock.after(50, () => fired.push('after 50'));
  clock.at(900, () => fired.push('past'));
  now = 1049;
  await until(1045);
  t.same(fired, ['past'], 'due at 1050: not yet at 1049');
  now = 1050;
  await until(1050);
  t.same(fired, ['past', 'after 50']);
});

t.test('the wheel starts again for a timer set after it ran dry', async (t) => {
  const clock = new Clock();
  await within(new Promise<void>((resolve) => clock.after(5, resolve)), 2000, 'the first timer');
  await within(new Promise<void>((resolve) => clock.after(5, resolve)), 2000, 'a timer set once nothing was pending');
  await within(clock.sleep(5), 2000, 'sleep');
  t.pass('every timer fired');
});

t.test('with only far-off timers pending the clock stops ticking, and a new timer wakes it without skipping any', async (t) => {
  let now = 0;
  const clock = new Clock(() => now);
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const fired: string[] = [];
  clock.at(600_000, () => fired.push('far')); // a quiet tunnel's idle timeout, ten minutes out
  t.ok(clock.ticking);
  await waitFor(() => !clock.ticking, 5000, 'the clock to stop ticking after a quiet stretch');
  const near = new Promise<void>((resolve) => clock.at(now + 10, () => (fired.push('near'), resolve())));
  t.ok(clock.ticking, 'a new timer wakes it');
  now = 600_001;
  await within(near, 2000, 'the near timer');
  t.same(fired.sort(), ['far', 'near'], 'the far timer, due meanwhile, fired too');
});
