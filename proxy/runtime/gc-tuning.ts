/**
 * V8 settings for a proxy's allocation pattern: nearly everything a request allocates dies within the request.
 *
 * Allocation-site pretenuring lets V8 allocate the objects of a site straight into the old generation once it saw
 * most of them survive a young collection. A proxy's sites flip that way in bursts (a slow upstream keeps requests
 * alive for a while, node:http's IncomingMessage among them) and then stay tenured: every later request's objects
 * fill the old generation and bring a mark-compact every few seconds, whose pause is what the p99 at the client sees.
 * With the flag off those objects die young again: fewer mark-compacts, a lower p99 and peak RSS, the same CPU per
 * request (the measurements are in bench/HISTORY.md).
 *
 * The flag is read by the collector each time it runs, so setting it at start-up (before any traffic) takes effect.
 * `node --allocation-site-pretenuring dist/proxy/cli.js …` keeps V8's default, for comparing the two.
 */
import { setFlagsFromString } from 'node:v8';

export function tuneGarbageCollector(): void {
  if (process.execArgv.includes('--allocation-site-pretenuring')) return;
  setFlagsFromString('--no-allocation-site-pretenuring');
}
