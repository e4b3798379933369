/**
 * V8 settings for a proxy's allocation pattern: nearly everything a request allocates dies within the request.
 *
 * Allocation-site pretenuring lets V8 allocate the objects of a site straight into the old generation once it saw
 * most of them survive a young collection. A proxy's sites flip that way in bursts (a slow upstream keeps requests
 * alive for a while, node:http's IncomingMessage among them) and then stay tenured: every later request's objects
 * fill the old generation and bring a mark-compact every few seconds, whose pause is what the p99 at the client sees.
 * Measured here with the flag off (alternating pairs, see the README's Performance section): no mark-compact in a
 * 3 s fast-fail window instead of one, fast-fail p99 1.07-3.02 ms -> 0.41-0.81 ms, peak RSS under load 147 -> 129 MB
 * (median of ten windows), CPU per request unchanged (0.98).
 *
 * The flag is read by the collector each time it runs, so setting it at start-up (before any traffic) takes effect.
 * `node --allocation-site-pretenuring dist/proxy/cli.js …` keeps V8's default, for comparing the two.
 */
import { setFlagsFromString } from 'node:v8';

export function tuneGarbageCollector(): void {
  if (process.execArgv.includes('--allocation-site-pretenuring')) return;
  setFlagsFromString('--no-allocation-site-pretenuring');
}
