// The verdict asks two things of every repeat: the protected arms held the hypothesis, the baseline arms did not.
import t from 'tap';
import { baselineArms, holds, protectedArms, roleOf, verdict } from '../../../chaos/experiment/hypothesis.js';
import type { HypothesisSpec } from '../../../chaos/results.js';

const rule: HypothesisSpec = { description: 'most calls succeed', metric: 'successRate', op: '>=', value: 0.9 };
const arms = ['none', 'app', 'proxy'];
const repeat = (held: Record<string, boolean>) => new Map(Object.entries(held));

t.test('none is the default baseline; every other arm is protected unless the hypothesis names them', async (t) => {
  t.same(baselineArms(rule, arms), ['none']);
  t.same(protectedArms(rule, arms), ['app', 'proxy']);
  t.same(baselineArms(rule, ['app', 'proxy']), [], 'no none arm: no baseline');
  const named = { ...rule, arms: ['proxy-budget'], baseline: ['app', 'proxy-jitter'] };
  const storm = ['none', 'app', 'proxy-jitter', 'proxy-budget'];
  t.same(protectedArms(named, storm), ['proxy-budget']);
  t.equal(roleOf(named, storm, 'none'), 'other', 'an arm in neither list is shown, not judged');
  t.equal(roleOf(named, storm, 'app'), 'baseline');
  t.ok(holds(rule, 0.9) && !holds(rule, 0.89) && holds({ ...rule, op: '<=', value: 5 }, 5));
});

t.test('discriminates only when every repeat has the protected arms holding and the baseline not', async (t) => {
  const good = repeat({ none: false, app: true, proxy: true });
  t.same(verdict(rule, arms, [good, good, good]), { passed: true, discriminates: true, discriminatingRepeats: 3, repeats: 3 });

  const noneHolds = repeat({ none: true, app: true, proxy: true });
  const once = verdict(rule, arms, [good, noneHolds, good]);
  t.equal(once.passed, true, 'the protected arms held every time');
  t.equal(once.discriminates, false, 'one repeat where none held too is enough to say it does not discriminate');
  t.equal(once.discriminatingRepeats, 2);

  const proxyFails = verdict(rule, arms, [good, repeat({ none: false, app: true, proxy: false })]);
  t.equal(proxyFails.passed, false, 'a protected arm that failed once fails the hypothesis');
  t.equal(proxyFails.discriminates, false);

  t.equal(verdict(rule, ['app', 'proxy'], [repeat({ app: true, proxy: true })]).discriminates, null, 'no baseline ran');
});
