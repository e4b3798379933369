// CI smoke of the HTTP/2 and gRPC comparison: a real `node dist/bench/run.js --smoke --h2` run (seconds, no
// thresholds) must write a report in which every target of both protocols has figures or says why it was skipped, and
// every measured target its ratios to HAProxy and nginx of the same run.
import t from 'tap';
import type { H2Report } from '../../../bench/report/results.js';
import { runBench } from './run-bench.js';

const RUN_DEADLINE_MS = 120_000;
const PROTOCOLS = ['h2c', 'grpc'];
const TARGETS = ['direct', 'breakwater', 'nginx', 'haproxy'];

const isPositive = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value > 0;
const isSkipReason = (value: unknown): boolean => typeof value === 'string' && value.trim().length > 0;

t.test('--smoke --h2 writes h2c and gRPC rows with figures or a skip reason for every target', async (t) => {
  const report = await runBench<H2Report>(t, ['--smoke', '--h2'], 'h2.smoke', RUN_DEADLINE_MS);
  if (!report) return;
  t.equal(report.smoke, true);
  t.same(report.protocols.map((protocol) => protocol.name), PROTOCOLS, 'both protocols are reported, in order');
  for (const protocol of report.protocols) {
    t.same(protocol.targets.map((target) => target.name), TARGETS, `${protocol.name}: every target is reported, in order`);
    const measured = (name: string): boolean => protocol.targets.some((target) => target.name === name && target.figures);
    for (const target of protocol.targets) {
      const where = `${protocol.name} ${target.name}`;
      if (target.skipped !== undefined) {
        t.ok(isSkipReason(target.skipped), `${where}: skipped with a reason (${target.skipped})`);
        continue;
      }
      const f = target.figures;
      if (!t.ok(f, `${where}: has figures or a skip reason`) || !f) continue;
      for (const [what, value] of Object.entries({
        'closed-loop rps': f.closedLoopRps,
        'c=1 p50': f.c1.p50Us,
        'c=1 p99': f.c1.p99Us,
        'c=16 p50': f.c16.p50Us,
        'c=16 p99': f.c16.p99Us,
      })) {
        t.ok(isPositive(value), `${where}: ${what} is a positive number (got ${value})`);
      }
      if (target.name === 'direct') t.equal(f.cpuUsPerRequest, null, 'direct has no proxy process to charge CPU to');
      else {
        t.ok(typeof f.cpuUsPerRequest === 'number' && f.cpuUsPerRequest >= 0, `${where}: CPU per request`);
        t.ok(isPositive(f.rssIdleMB) && isPositive(f.rssLoadMB), `${where}: RSS idle and under load`);
      }
      t.equal(f.closedLoopRounds.length, report.settings.rounds, `${where}: every closed-loop round is kept`);
      // Counted, not judged, as in the HTTP/1.1 smoke: a busy CI machine can make a proxy shed a few requests. A target
      // that cannot carry the protocol at all fails its probe and is skipped, which the rows above would show.
      t.ok(Number.isInteger(f.failures) && f.failures >= 0, `${where}: failed requests are counted`);
      const c = target.comparisons;
      t.ok(c, `${where}: compared with the others of the run`);
      if (measured('haproxy') && target.name !== 'direct') t.ok(isPositive(c?.cpuVsHaproxy), `${where}: CPU ratio to HAProxy`);
      if (measured('nginx') && target.name !== 'direct') t.ok(isPositive(c?.cpuVsNginx), `${where}: CPU ratio to nginx`);
      if (measured('direct')) t.ok(isPositive(c?.rpsVsDirect), `${where}: rps ratio to direct`);
    }
  }
});
