// Repeats: each arm's figures over N runs as mean and range, and a report that says whether the run discriminated.
import t from 'tap';
import { failureCauses } from '../../../chaos/runner/arm-result.js';
import { combineRepeats, repeatSeed, spread } from '../../../chaos/runner/repeats.js';
import { formatTerminalTable, writeReport } from '../../../chaos/report/index.js';
import { verdictLine } from '../../../chaos/report/summary-table.js';
import type { ArmResult, ExperimentResult } from '../../../chaos/results.js';
import { syntheticResult } from './report/synthetic-result.js';

/** A result whose arms ran `seeds.length` times; `held` decides each repeat's verdict per arm. */
function repeatedResult(seeds: number[], held: (arm: string, index: number) => boolean): ExperimentResult {
  const runs = seeds.map((seed) => syntheticResult({ seed, arms: ['none', 'app', 'proxy'] }));
  const arms: ArmResult[] = runs[0]!.arms.map((first) => combineRepeats(runs.map((run, index) => {
    const result = run.arms.find((arm) => arm.arm === first.arm)!;
    return { seed: seeds[index]!, result: { ...result, hypothesis: { ...result.hypothesis, passed: held(first.arm, index) } } };
  })));
  const everyRepeat = (name: string, want: boolean) => arms.find((a) => a.arm === name)!.repeats!.every((r) => r.held === want);
  const passed = everyRepeat('app', true) && everyRepeat('proxy', true);
  return { ...runs[0]!, arms, repeats: seeds.length, passed, discriminates: passed && everyRepeat('none', false) };
}

t.test('spread and seeds', async (t) => {
  t.same(spread([3, 1, 2]), { mean: 2, min: 1, max: 3 });
  t.same(spread([null, 4]), { mean: 4, min: 4, max: 4 }, 'a figure that never happened is left out of the mean');
  t.equal(spread([null, null]), null);
  t.same([0, 1, 2].map((i) => repeatSeed(42, i)), [42, 43, 44]);
});

t.test('combined repeats keep every repeat, sum the attempts and hold only if every repeat held', async (t) => {
  const result = repeatedResult([1, 2, 3], (arm, index) => arm !== 'none' && !(arm === 'proxy' && index === 2));
  const proxy = result.arms.find((arm) => arm.arm === 'proxy')!;
  t.equal(proxy.repeats!.length, 3);
  t.same(proxy.repeats!.map((r) => r.seed), [1, 2, 3]);
  t.equal(proxy.hypothesis.passed, false, 'failed in one repeat');
  const observed = proxy.repeats!.map((r) => r.observed);
  t.equal(proxy.hypothesis.observed, observed.reduce((a, b) => a + b, 0) / 3, 'observed is the mean');
  const app = result.arms.find((arm) => arm.arm === 'app')!;
  const calls = Object.values(app.attemptsHistogram!).reduce((a, b) => a + b, 0);
  t.equal(calls, app.repeats!.reduce((sum, r) => sum + r.summary.count, 0), 'attempts of every repeat are counted');
});

t.test('the table shows mean (min–max) and repeat counts; the verdict says whether the run discriminated', async (t) => {
  const good = repeatedResult([1, 2, 3, 4, 5], (arm) => arm !== 'none');
  const table = formatTerminalTable(good, { colour: false });
  const none = good.arms.find((arm) => arm.arm === 'none')!;
  const rates = none.repeats!.map((r) => r.summary.successRate * 100);
  t.match(table, `${(rates.reduce((a, b) => a + b, 0) / 5).toFixed(1)}% (${Math.min(...rates).toFixed(1)}%–${Math.max(...rates).toFixed(1)}%)`);
  t.match(table, /PASS 5\/5/);
  t.match(table, /not held 0\/5 \(baseline\)/);
  t.match(table, /5 repeats, seeds 1-5/);
  t.match(verdictLine(good), /^Verdict: DISCRIMINATES - .* held for app, proxy and not for none in every one of 5 repeats/);

  const noContrast = repeatedResult([1, 2, 3], (arm, index) => arm !== 'none' || index === 1);
  t.match(verdictLine(noContrast), /^Verdict: DOES NOT DISCRIMINATE - .*but also for the baseline none in 1 of 3 repeats \(mean none [0-9.]+%\)$/, 'in how many repeats it held, its mean beside');
  t.notMatch(formatTerminalTable(noContrast, { colour: false }), /Verdict: PASS/, 'never a plain PASS when none holds too');
  t.match(formatTerminalTable(noContrast, { colour: false }), /held 1\/3 \(baseline\)/);

  const failing = repeatedResult([1, 2], (arm) => arm === 'app');
  t.match(verdictLine(failing), /^Verdict: FAIL - .* for proxy/);
});

t.test('failed calls are counted by cause, summed over repeats, and tabled per arm', async (t) => {
  const record = (ok: boolean, status: number, extra: object = {}) => ({ arm: 'none', seq: 0, start: 0, latencyMs: 1, ok, status, fastFail: false, ...extra });
  t.same(failureCauses([
    record(true, 200), record(false, 503), record(false, 503), record(false, 0, { error: 'timeout' }),
    record(false, 503, { fastFail: true }), record(false, 0, { error: 'ECONNREFUSED' }),
  ]), { 'HTTP 503': { calls: 2, p50Ms: 1 }, timeout: { calls: 1, p50Ms: 1 }, 'fast-fail': { calls: 1, p50Ms: 1 }, ECONNREFUSED: { calls: 1, p50Ms: 1 } });
  const base = syntheticResult({ seed: 2, arms: ['none', 'proxy'] });
  const runs = [1, 2].map((seed) => ({ seed, result: { ...base.arms[0]!, failures: { timeout: { calls: seed, p50Ms: 2000 + seed * 1000 } } } }));
  t.same(combineRepeats(runs).failures, { timeout: { calls: 3, p50Ms: 3500 } }, 'calls summed, p50 the mean of the repeats');
  const result = { ...base, arms: [combineRepeats(runs), { ...base.arms[1]!, failures: { 'fast-fail': { calls: 4, p50Ms: 1.2 } } }] };
  const { markdown } = await writeReport(t.testdir(), result);
  t.match(markdown, '## Failed calls by cause\n\n| cause | none | proxy |');
  t.match(markdown, '| timeout | 3 (p50 3500 ms) | 0 |');
  t.match(markdown, '| fast-fail | 0 | 4 (p50 1.2 ms) |');
});

t.test('report: n/a for detection with the fault from the start, settings linked, breaker lanes only where there is a breaker', async (t) => {
  const dir = t.testdir();
  const base = syntheticResult({ seed: 4, arms: ['none', 'app', 'proxy'] });
  const result: ExperimentResult = {
    ...base,
    faultFromStart: true,
    discriminates: true,
    notEquivalent: ['Bulkhead: the app arm has none.'],
    arms: base.arms.map((arm) => ({
      ...arm,
      settings: {
        client: arm.arm === 'app' ? 'app resilience' : 'plain HTTP client, 3 s request timeout, no retries',
        ...(arm.arm === 'proxy' ? { sidecar: 'Breakwater: 3 s route timeout' } : {}),
        files: [`arms/${arm.arm}.client.json`, ...(arm.arm === 'proxy' ? ['arms/proxy.sidecar-policy.yaml'] : [])],
        breaker: false,
      },
    })),
  };
  const { markdown, html } = await writeReport(dir, result);
  t.match(markdown, /\| n\/a \(fault from the start\) \| n\/a \(fault from the start\) \|/);
  t.match(markdown, '[arms/proxy.sidecar-policy.yaml](arms/proxy.sidecar-policy.yaml)');
  t.match(html, '<a href="arms/none.client.json">arms/none.client.json</a>');
  t.match(markdown, '### Not equivalent\n\n- Bulkhead: the app arm has none.');
  t.notMatch(html, 'id="chart-breaker"', 'breaker samples of arms without a breaker draw no lanes');
});
