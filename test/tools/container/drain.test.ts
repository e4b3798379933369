// SIGTERM to the container's PID 1, as `podman stop` (and the kubelet) sends it: the proxy in the image drains (readiness
// fails, it keeps serving drain.delay, stops accepting, lets in-flight requests finish up to drain.timeout) and exits 0.
// The stop grace period is the chart's: drain.delay + drain.timeout + 5 s, so a SIGKILL would show as exit 137.
import t, { type Test } from 'tap';
import { containerTestsCanRun, leftovers, podmanAsync, podmanOk, runName } from './podman.js';
import type { HttpResult } from './pod.js';
import { EGRESS_URL, startProxyPod } from './proxy-pod.js';

interface LoadResult extends HttpResult { phase: 'before-stop' | 'during-stop' }

const GRACE_EXTRA_SECONDS = 5;

/** Starts the pod, puts `inflight` requests in flight, stops the proxy container while sending more; the figures. */
async function stopUnderLoad(t: Test, name: string, slowDelayMs: number, drain: { delayMs: number; timeoutMs: number }) {
  const { pod, proxy, remove } = await startProxyPod(runName(name), {
    backendArgs: ['--failure-rate', '0', '--slow-rate', '1', '--slow-delay', `${slowDelayMs}ms`],
    drain: { delay: `${drain.delayMs}ms`, timeout: `${drain.timeoutMs}ms` },
  });
  t.teardown(remove);
  const grace = Math.ceil((drain.delayMs + drain.timeoutMs) / 1000) + GRACE_EXTRA_SECONDS;
  let stopped: Promise<{ status: number | null; stderr: string; ms: number }> | undefined;
  const lines = await pod.client({ load: EGRESS_URL, inflight: 8, intervalMs: 100, maxRequests: 300, timeoutMs: 60_000 }, (line) => {
    if ((JSON.parse(line) as { event: string }).event !== 'sent') return;
    const started = Date.now();
    stopped = podmanAsync(['stop', '--time', String(grace), proxy], 90_000).then((r) => ({ ...r, ms: Date.now() - started }));
  });
  t.ok(stopped, 'the requests were in flight before the stop');
  const stop = await stopped!;
  t.equal(stop.status, 0, 'podman stop succeeds', { stderr: stop.stderr });
  const results = (JSON.parse(lines.at(-1)!) as { results: LoadResult[] }).results;
  const exitCode = Number(podmanOk(['inspect', '--format', '{{.State.ExitCode}}', proxy]));
  const logs = pod.logs(proxy);
  const inflightAtClose = /"inflight":(\d+).*stopped accepting/.exec(logs)?.[1];
  return { stop, results, exitCode, logs, inflightAtClose: Number(inflightAtClose), grace };
}

if (containerTestsCanRun(t)) {
  t.test('the proxy is PID 1 of its container (the entrypoint execs node)', async (t) => {
    const { proxy, remove } = await startProxyPod(runName('pid1'), {
      backendArgs: ['--failure-rate', '0', '--slow-rate', '0'], drain: { delay: '0s', timeout: '1s' },
    });
    t.teardown(remove);
    const cmdline = podmanOk(['exec', proxy, 'cat', '/proc/1/cmdline']).split('\0');
    t.same(cmdline.slice(0, 2), ['node', '/app/dist/proxy/cli.js'], 'PID 1 receives SIGTERM itself, no shell in between');
  });

  t.test('podman stop drains: every accepted request answers 200, then exit 0 well within drain.timeout', async (t) => {
    const drain = { delayMs: 1000, timeoutMs: 10_000 };
    const backendDelayMs = 1500;
    const { stop, results, exitCode, logs, inflightAtClose } = await stopUnderLoad(t, 'drain', backendDelayMs, drain);
    // A connection the kernel completes into the listen backlog just as the listener closes is reset without the proxy
    // ever reading it: the client sees a refusal or a reset at once. Anything the proxy accepted takes at least the
    // backend's delay, so a failure before half of it is a connection turned away, and any other failure a lost request.
    const turnedAway = (r: LoadResult) => r.error !== undefined && (r.error === 'ECONNREFUSED' || r.ms < backendDelayMs / 2);
    const before = results.filter((r) => r.phase === 'before-stop');
    const accepted = results.filter((r) => r.phase === 'during-stop' && !turnedAway(r));
    const refused = results.filter((r) => r.phase === 'during-stop' && turnedAway(r));
    t.equal(exitCode, 0, 'exit code 0 (137 would be the SIGKILL after the grace period)', { logs });
    t.same(before.filter((r) => r.status !== 200), [], `all ${before.length} requests in flight at SIGTERM answered 200`);
    t.same(accepted.filter((r) => r.status !== 200), [], `all ${accepted.length} requests accepted during drain.delay answered 200`);
    const proxied = logs.split('\n').filter((line) => line.includes('"msg":"request"') && line.includes('"status":200')).length;
    t.equal(proxied, before.length + accepted.length, 'the proxy logged exactly the requests the client got answers to');
    t.ok(refused.length > 0, 'after drain.delay new connections are turned away');
    t.ok(stop.ms >= drain.delayMs, `kept serving drain.delay (${drain.delayMs} ms) before closing: stopped after ${stop.ms} ms`);
    t.ok(stop.ms < drain.delayMs + drain.timeoutMs, `exited within drain.delay + drain.timeout: ${stop.ms} ms`);
    t.comment(`drain in the container: ${before.length} requests in flight at SIGTERM, ${accepted.length} more accepted during `
      + `drain.delay ${drain.delayMs} ms, ${inflightAtClose} in flight when it stopped accepting, all answered 200; `
      + `${refused.length} turned away after; exit 0 ${stop.ms} ms after podman stop (backend answers in ${backendDelayMs} ms)`);
  });

  t.test('requests that outlast drain.timeout are cut; the container still exits 0 on time', async (t) => {
    const drain = { delayMs: 0, timeoutMs: 2000 };
    const { stop, results, exitCode } = await stopUnderLoad(t, 'drain-timeout', 30_000, drain);
    t.equal(exitCode, 0);
    t.ok(stop.ms < drain.timeoutMs + 2000, `exited ${stop.ms} ms after podman stop (drain.timeout ${drain.timeoutMs} ms)`);
    t.ok(results.filter((r) => r.phase === 'before-stop').every((r) => r.status !== 200), 'the in-flight requests did not complete');
    t.comment(`drain.timeout in the container: exit 0 ${stop.ms} ms after podman stop with ${drain.timeoutMs} ms drain.timeout`);
  });

  t.test('leaves no container or network behind', async (t) => {
    t.same(leftovers(), []);
  });
}
