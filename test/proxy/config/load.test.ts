import { readFileSync } from 'node:fs';
import t from 'tap';
import { failureConditions } from '../../../proxy/config/conditions.js';
import { parsePolicy } from '../../../proxy/config/load.js';
import { POLICY_DEFAULTS } from '../../../proxy/config/generated/policy-defaults.js';
import { PolicyError } from '../../../proxy/config/policy-error.js';
import { parseSize } from '../../../proxy/config/size.js';

const minimal = (extra = '') => `listeners: [{ name: e, address: "127.0.0.1:0", routes: [{ name: r, upstream: u${extra} }] }]\nupstreams: [{ name: u, endpoints: ["127.0.0.1:1"] }]\n`;

t.test('the example from the README loads, with its numbers', async (t) => {
  const policy = parsePolicy(readFileSync('config/breakwater.yaml', 'utf8'), 'config/breakwater.yaml');
  const api = policy.listeners[0]!.routes[1]!;
  t.equal(api.timeoutMs, 3000);
  t.equal(api.retry.attempts, 4);
  t.equal(api.retry.perTryTimeoutMs, 800);
  t.ok(api.retry.on.statuses.has(500) && api.retry.on.statuses.has(429) && api.retry.on.statuses.size === 101, 'every 5xx and 429');
  t.equal(api.retry.on.connectFailure, true);
  t.equal(api.retry.on.timeout, false);
  t.same(api.retry.backoff, { baseMs: 50, maxMs: 1000, jitter: 'full' });
  t.same(api.retry.budget, { ratio: 0.2, minPerSecond: 5, windowMs: 10_000 });
  t.equal(api.retry.maxReplayBodyBytes, 64 * 1024, 'bodies up to 64 KiB are buffered by default');
  t.equal(policy.upstreams[0]!.connectTimeoutMs, 250);
  t.equal(policy.listeners[0]!.routes[0]!.retry.attempts, 1);
});

t.test('retry condition shorthands expand', async (t) => {
  const p = parsePolicy(minimal(', retry: { attempts: 2, on: [5xx, gateway-error, 429, timeout] }'), 'x');
  const on = p.listeners[0]!.routes[0]!.retry.on;
  t.equal(on.statuses.size, 101, '5xx = 500..599, plus 429');
  t.ok(on.statuses.has(599));
  t.equal(on.timeout, true);
  const gw = parsePolicy(minimal(', retry: { attempts: 2, on: [gateway-error] }'), 'x');
  t.same([...gw.listeners[0]!.routes[0]!.retry.on.statuses].sort(), [502, 503, 504]);
});

t.test('problems are reported by path, all at once', async (t) => {
  const bad = `listeners:\n  - name: e\n    address: nowhere\n    routes:\n      - name: r\n        upstream: u\n        retry: { attempts: 2, on: [teapot], backoff: { base: 2s, max: 1s } }\n        fallback: { status: 503, body: x, json: {} }\nupstreams:\n  - name: u\n    endpoints: ["127.0.0.1:99999"]\n    dns: { name: x, port: 1, refresh: 0s }\n`;
  const err = t.throws(() => parsePolicy(bad, 'bad.yaml')) as PolicyError;
  t.type(err, PolicyError);
  const text = err.problems.join('\n');
  t.match(text, /listeners\[0\]\.address: must be host:port/);
  t.match(text, /listeners\[0\]\.routes\[0\]\.retry\.on\[0\]: must be one of "connect-failure", "reset", "timeout", "5xx", "gateway-error", "cancelled", .*"unauthenticated", a status code/);
  t.match(text, /upstreams\[0\]\.endpoints\[0\]: must be host:port or http\(s\):\/\/host:port/);
  t.match(text, /upstreams\[0\]: needs exactly one of endpoints or dns/);
  t.match(text, /upstreams\[0\]\.dns\.refresh: must be a duration longer than 0/);
  t.match(text, /retry\.backoff\.base: must not be longer than backoff\.max/);
  t.match(text, /fallback: use either json or body, not both/);
  t.match(text, /fallback: a fallback needs a circuitBreaker on the same route/);
});

t.test('route names are unique across listeners, since route metrics carry no listener label', async (t) => {
  const twoListeners = (second: string) =>
    `listeners:\n  - name: a\n    address: 127.0.0.1:0\n    routes: [{ name: api, upstream: u }]\n  - name: b\n    address: 127.0.0.2:0\n    routes: [{ name: ${second}, upstream: u }]\nupstreams:\n  - name: u\n    endpoints: ["127.0.0.1:80"]\n`;
  const err = t.throws(() => parsePolicy(twoListeners('api'), 'two.yaml')) as PolicyError;
  t.match(err.problems.join('\n'), /listeners\[1\]\.routes\[0\]\.name: route name "api" is taken by listener "a"/);
  t.equal(parsePolicy(twoListeners('api-b'), 'two.yaml').listeners.length, 2, 'distinct names load');
});

t.test('sizes', async (t) => {
  t.equal(parseSize('64KiB'), 65536);
  t.equal(parseSize('1MiB'), 1048576);
  t.equal(parseSize('10'), 10);
  t.equal(parseSize(12), 12);
  t.equal(parseSize('lots'), undefined);
});

t.test('outlier detection: defaults, a cap not below the base, and intervals longer than 0', async (t) => {
  const upstream = (od: string) =>
    `listeners: [{ name: e, address: "127.0.0.1:0", routes: [{ name: r, upstream: u }] }]\nupstreams:\n  - name: u\n    endpoints: ["127.0.0.1:1"]\n    outlierDetection: ${od}\n`;
  t.same(parsePolicy(upstream('{}'), 'x').upstreams[0]!.outlierDetection, {
    consecutiveFailures: 5,
    baseEjectionTimeMs: 30_000,
    maxEjectionTimeMs: 300_000,
    decayIntervalMs: 10_000,
    maxEjectionPercent: 50,
  });
  t.equal(parsePolicy(upstream('{ baseEjectionTime: 10m }'), 'x').upstreams[0]!.outlierDetection.maxEjectionTimeMs, 600_000, 'a base above the default cap is the cap');
  const err = t.throws(() => parsePolicy(upstream('{ baseEjectionTime: 0s, maxEjectionTime: 1s, decayInterval: 0s }'), 'od.yaml')) as PolicyError;
  t.same(err.problems, [
    'line 5: upstreams[0].outlierDetection.baseEjectionTime: must be a duration longer than 0, such as 250ms, 3s or 1m, at most 596h',
    'line 5: upstreams[0].outlierDetection.decayInterval: must be a duration longer than 0, such as 250ms, 3s or 1m, at most 596h',
  ]);
  const short = t.throws(() => parsePolicy(upstream('{ maxEjectionTime: 10s }'), 'od.yaml')) as PolicyError;
  t.same(short.problems, ['line 5: upstreams[0].outlierDetection.maxEjectionTime: must not be shorter than baseEjectionTime (default 30s)']);
});

t.test('upstream TLS is per upstream: a tls block or an https:// endpoint; serverName defaults to the DNS name', async (t) => {
  const upstream = (fields: string) => `listeners: [{ name: e, address: "127.0.0.1:0", routes: [{ name: r, upstream: u }] }]\nupstreams: [{ name: u, ${fields} }]\n`;
  t.equal(parsePolicy(upstream('endpoints: ["a:1", "http://b:2"]'), 'x').upstreams[0]!.tls, undefined, 'plaintext');
  t.same(parsePolicy(upstream('endpoints: ["https://a:1", "b:2"]'), 'x').upstreams[0]!.tls, {}, 'one https:// endpoint: TLS to both');
  t.same(parsePolicy(upstream('dns: { name: svc.ns, port: 443 }, tls: {}'), 'x').upstreams[0]!.tls, { serverName: 'svc.ns' });
  t.same(parsePolicy(upstream('dns: { name: svc.ns, port: 443 }, tls: { serverName: api.internal }'), 'x').upstreams[0]!.tls, { serverName: 'api.internal' });
  const err = t.throws(() => parsePolicy(upstream('endpoints: ["a:1"], tls: { serverName: 10.0.0.1 }'), 'x')) as PolicyError;
  t.match(err.problems.join('\n'), /upstreams\[0\]\.tls\.serverName: must be a host name/);
});

t.test('DNS upstreams: lookups bounded by dns.timeout; Host is the name unless upstreams[].host says otherwise', async (t) => {
  const upstream = (fields: string) => `listeners: [{ name: e, address: "127.0.0.1:0", routes: [{ name: r, upstream: u }] }]\nupstreams:\n  - { name: u, ${fields} }\n`;
  const dns = parsePolicy(upstream('dns: { name: svc.ns, port: 8080 }'), 'x').upstreams[0]!;
  t.same(dns.dns, { name: 'svc.ns', port: 8080, refreshMs: 5000, timeoutMs: 5000 });
  t.equal(dns.host, 'svc.ns:8080');
  t.equal(parsePolicy(upstream('dns: { name: svc.ns, port: 80 }'), 'x').upstreams[0]!.host, 'svc.ns', 'the default port is left out');
  t.equal(parsePolicy(upstream('dns: { name: svc.ns, port: 443 }, tls: {}'), 'x').upstreams[0]!.host, 'svc.ns');
  t.equal(parsePolicy(upstream('dns: { name: svc.ns, port: 80 }, host: api.internal'), 'x').upstreams[0]!.host, 'api.internal');
  t.equal(parsePolicy(upstream('endpoints: ["127.0.0.1:1"]'), 'x').upstreams[0]!.host, undefined, 'static endpoints keep their own host:port');
  const err = t.throws(() => parsePolicy(upstream('dns: { name: svc.ns, port: 80, timeout: 0s }, host: "a b"'), 'dns.yaml')) as PolicyError;
  t.same(err.problems.toSorted(), [
    'line 3: upstreams[0].dns.timeout: must be a duration longer than 0, such as 250ms, 3s or 1m, at most 596h',
    'line 3: upstreams[0].host: must be a host name with an optional :port, such as api.internal or api.internal:8080',
  ]);
});

t.test('listener limits: safe defaults, and every key of the file read in its unit', async (t) => {
  const defaults = parsePolicy(minimal(), 'x').listeners[0]!.limits;
  t.same(defaults, { headersTimeoutMs: 10_000, requestBodyTimeoutMs: 30_000, idleTimeoutMs: 65_000, maxConnections: 4096, maxHeaderSizeBytes: 16 * 1024 });
  const text = `listeners:\n  - name: e\n    address: 127.0.0.1:0\n    limits: { headersTimeout: 2s, requestBodyTimeout: 250ms, idleTimeout: 1m, maxConnections: 50, maxHeaderSize: 8KiB }\n    routes: [{ name: r, upstream: u }]\nupstreams: [{ name: u, endpoints: ["127.0.0.1:1"] }]\n`;
  t.same(parsePolicy(text, 'x').listeners[0]!.limits, {
    headersTimeoutMs: 2000,
    requestBodyTimeoutMs: 250,
    idleTimeoutMs: 60_000,
    maxConnections: 50,
    maxHeaderSizeBytes: 8192,
  });
});

t.test('listener limits: a limit that would switch a check off, or refuse every request, is named by path', async (t) => {
  const text = `listeners:\n  - name: e\n    address: 127.0.0.1:0\n    limits:\n      headersTimeout: 0s\n      requestBodyTimeout: 0ms\n      idleTimeout: soon\n      maxConnections: 0\n      maxHeaderSize: 512\n      maxBodySize: 1MiB\n    routes: [{ name: r, upstream: u }]\nupstreams: [{ name: u, endpoints: ["127.0.0.1:1"] }]\n`;
  const err = t.throws(() => parsePolicy(text, 'bad.yaml')) as PolicyError;
  const problems = err.problems.join('\n');
  t.match(problems, /line 5: listeners\[0\]\.limits\.headersTimeout: must be a duration longer than 0/);
  t.match(problems, /line 6: listeners\[0\]\.limits\.requestBodyTimeout: must be a duration longer than 0/);
  t.match(problems, /line 7: listeners\[0\]\.limits\.idleTimeout: must be a duration/);
  t.match(problems, /line 8: listeners\[0\]\.limits\.maxConnections: must be >= 1/);
  t.match(problems, /line 9: listeners\[0\]\.limits\.maxHeaderSize: must be at least 1KiB/);
  t.match(problems, /listeners\[0\]\.limits\.maxBodySize: unknown key/);
});

/** Every YAML block of the README's policy section: the example, and the key reference while it is YAML. */
function readmePolicyBlocks(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const sectionStart = readme.indexOf('## The policy file');
  const section = readme.slice(sectionStart, readme.indexOf('\n## ', sectionStart + 1));
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

t.test('the policy examples in the README load, listener limits included', async (t) => {
  const blocks = readmePolicyBlocks();
  t.ok(blocks.length > 0, 'the policy section has a YAML example');
  for (const block of blocks) {
    const policy = parsePolicy(block, 'README.md');
    t.same(policy.listeners[0]!.limits, { headersTimeoutMs: 10_000, requestBodyTimeoutMs: 30_000, idleTimeoutMs: 65_000, maxConnections: 4096, maxHeaderSizeBytes: 16 * 1024 });
  }
});

t.test('config errors say where and what is expected: YAML syntax by line and column, typos by the nearest key, durations by example', async (t) => {
  const problems = (text: string) => (t.throws(() => parsePolicy(text, 'x.yaml')) as PolicyError).problems;
  t.same(problems('listeners:\n  - name: e\n    address: a: b\n'), ['line 3, column 14: invalid YAML: Nested mappings are not allowed in compact mappings']);
  t.same(problems(minimal(', retyr: { attempts: 2 }')), ['line 1: listeners[0].routes[0].retyr: unknown key; did you mean `retry`?']);
  t.same(problems(minimal(', retry: { attempts: 2, backof: {} }')), ['line 1: listeners[0].routes[0].retry.backof: unknown key; did you mean `backoff`?']);
  t.match(problems(minimal(', zzz: 1'))[0], /routes\[0\]\.zzz: unknown key; the keys here are name, match, upstream, timeout, retry,/);
  const duration = 'must be a duration longer than 0, such as 250ms, 3s or 1m, at most 596h';
  t.same(problems(minimal(', timeout: 3')), [`line 1: listeners[0].routes[0].timeout: ${duration}`], 'a number');
  t.same(problems(minimal(', timeout: 3 seconds')), [`line 1: listeners[0].routes[0].timeout: ${duration}`], 'a string that is not one');
  // Node.js fires a longer timer after 1 ms: a health check every 1000h would run a thousand times a second.
  t.same(problems(minimal(', circuitBreaker: { resetTimeout: 597h }')), [`line 1: listeners[0].routes[0].circuitBreaker.resetTimeout: ${duration}`], 'longer than a timer keeps');
  t.equal(parsePolicy(minimal(', timeout: 596h'), 'x').listeners[0]!.routes[0]!.timeoutMs, 596 * 3_600_000, 'the longest');
  t.same(problems(minimal(', retry: { attempts: 2, maxReplayBody: lots }')), ['line 1: listeners[0].routes[0].retry.maxReplayBody: must be a size in bytes or such as 64KiB, 1MiB']);
  const twoLines = 'listeners:\n  - name: e\n    address: 127.0.0.1:0\n    routes:\n      - name: r\n        upstream: u\n        timeout: 3\n        retyr: {}\nupstreams: [{ name: u, endpoints: ["127.0.0.1:1"] }]\n';
  t.same(
    problems(twoLines),
    [`line 7: listeners[0].routes[0].timeout: ${duration}`, 'line 8: listeners[0].routes[0].retyr: unknown key; did you mean `retry`?'],
    'in file order',
  );
});

t.test('header names and values in the policy are ones HTTP can carry: refused by name, where node:http would throw per request', async (t) => {
  const problems = (extra: string) => (t.throws(() => parsePolicy(minimal(extra), 'x.yaml')) as PolicyError).problems;
  const notAName = "is not a header name: letters, digits and !#$%&'*+.^_`|~- only";
  t.same(problems(', match: { headers: { "x tenant": blue } }'), [`line 1: listeners[0].routes[0].match.headers.x tenant: ${notAName}`]);
  const fallback = (headers: string) => problems(`, circuitBreaker: {}, fallback: { body: later, headers: ${headers} }`);
  t.same(fallback('{ "retry after": "5" }'), [`line 1: listeners[0].routes[0].fallback.headers.retry after: ${notAName}`]);
  t.same(fallback('{ x-note: "a\\r\\nset-cookie: b" }'), [
    'line 1: listeners[0].routes[0].fallback.headers.x-note: holds a control character (such as a line break), which a header value cannot',
  ]);
  const route = parsePolicy(minimal(', circuitBreaker: {}, fallback: { body: later, headers: { Retry-After: "5", x-note: "tab\\there, caf\u00e9" } }'), 'x').listeners[0]!.routes[0]!;
  t.same(route.fallback!.headers, { 'retry-after': '5', 'x-note': 'tab\there, caf\u00e9', 'content-type': 'text/plain; charset=utf-8' }, 'tab and Latin-1 are header text');
});

t.test('a fallback whose status has no content (204, 205, 304) cannot have a body', async (t) => {
  const fallback = (text: string) => parsePolicy(minimal(`, circuitBreaker: {}, fallback: ${text}`), 'x.yaml').listeners[0]!.routes[0]!.fallback!;
  t.same(fallback('{ status: 204 }').body.length, 0);
  for (const status of [204, 205, 304]) {
    t.same((t.throws(() => fallback(`{ status: ${status}, json: { later: true } }`)) as PolicyError).problems, [
      `line 1: listeners[0].routes[0].fallback.status: a ${status} answer has no content: drop json and body, or answer another status`,
    ]);
  }
});

t.test('values a running proxy cannot serve by are refused: zero durations, endpoints twice, brackets round no IPv6, unmatchable paths', async (t) => {
  const problems = (text: string) => (t.throws(() => parsePolicy(text, 'x.yaml')) as PolicyError).problems;
  const positive = 'must be a duration longer than 0, such as 250ms, 3s or 1m, at most 596h';
  const upstream = (fields: string) => `listeners: [{ name: e, address: "127.0.0.1:0", routes: [{ name: r, upstream: u }] }]\nupstreams: [{ name: u, endpoints: ["127.0.0.1:1"], ${fields} }]\n`;
  // 0 would spin (a health check every millisecond), refuse every request (undici's keep-alive) or switch a bound off.
  t.same(problems(upstream('idleTimeout: 0ms')), [`line 2: upstreams[0].idleTimeout: ${positive}`]);
  t.same(problems(upstream('healthCheck: { path: /h, interval: 0s, timeout: 0ms }')).toSorted(), [
    `line 2: upstreams[0].healthCheck.interval: ${positive}`,
    `line 2: upstreams[0].healthCheck.timeout: ${positive}`,
  ]);
  for (const field of ['timeout: 0s', 'retry: { attempts: 2, perTryTimeout: 0ms }', 'retry: { attempts: 2, budget: { ratio: 0.2, window: 0s } }', 'circuitBreaker: { window: 0ms }']) {
    t.match(problems(minimal(`, ${field}`)), [new RegExp(`routes\\[0\\]\\..*: ${positive}$`)], field);
  }
  const zeroMeansNone = parsePolicy(
    `${minimal(', retry: { attempts: 2, backoff: { base: 0ms, max: 0s } }').replace('endpoints: ["127.0.0.1:1"]', 'endpoints: ["127.0.0.1:1"], pool: { queueTimeout: 0s }')}drain: { delay: 0s, timeout: 0s }\n`,
    'x',
  );
  t.same([zeroMeansNone.listeners[0]!.routes[0]!.retry.backoff.baseMs, zeroMeansNone.upstreams[0]!.pool.queueTimeoutMs, zeroMeansNone.drain.delayMs], [0, 0, 0], 'where 0 means no wait, it is taken');

  t.same(problems(upstream('').replace('["127.0.0.1:1"]', '["127.0.0.1:1", "http://127.0.0.1:1"]')), [
    'line 2: upstreams[0].endpoints[1]: the same endpoint as endpoints[0]: list each once',
  ]);
  t.same(problems(upstream('').replace('127.0.0.1:1', '[1.2.3.4]:1')), ['line 2: upstreams[0].endpoints[0]: must be host:port or http(s)://host:port with a port from 1 to 65535']);
  t.same(parsePolicy(upstream('').replace('127.0.0.1:1', '[::1]:1'), 'x').upstreams[0]!.endpoints, ['[::1]:1'], 'an IPv6 address in brackets is one');
  t.same(problems(upstream('host: "[1.2.3.4]"')), ['line 2: upstreams[0].host: must be a host name with an optional :port, such as api.internal or api.internal:8080']);

  const path = 'must start with / and hold no space, control character, ? or # (a route matches the path without its query)';
  t.same(problems(minimal(', match: { pathPrefix: "/api?version=1" }')), [`line 1: listeners[0].routes[0].match.pathPrefix: ${path}`]);
  t.same(problems(minimal(', match: { path: "/a b" }')), [`line 1: listeners[0].routes[0].match.path: ${path}`]);
  t.same(problems(upstream('healthCheck: { path: "/health check" }')), ['line 2: upstreams[0].healthCheck.path: must start with / and hold no space, control character or #']);
  t.equal(parsePolicy(upstream('healthCheck: { path: "/health?deep=1" }'), 'x').upstreams[0]!.healthCheck!.path, '/health?deep=1', 'a health check may carry a query');

  t.same(problems(minimal(', match: { methods: [GET, connect] }')), [
    'line 1: listeners[0].routes[0].match.methods[1]: CONNECT never reaches a route: Breakwater is no forward proxy (a tunnel is an Upgrade, see upgrade)',
  ]);
  const size = 'must be a size in bytes or such as 64KiB, 1MiB';
  const limits = (value: string) => minimal().replace('address: "127.0.0.1:0"', `address: "127.0.0.1:0", limits: { maxHeaderSize: ${value} }`);
  t.same(problems(limits('1e300')), [`line 1: listeners[0].limits.maxHeaderSize: ${size}`], 'a size Node cannot hold exactly (the proxy would not start)');
  t.same(problems(limits('"99999999999999999MiB"')), [`line 1: listeners[0].limits.maxHeaderSize: ${size}`]);
});

t.test('a wildcard address takes its port on every address, in whichever order the two are written', async (t) => {
  const listeners = (a: string, b: string) =>
    `listeners:\n  - { name: a, address: "${a}", routes: [{ name: r1, upstream: u }] }\n  - { name: b, address: "${b}", routes: [{ name: r2, upstream: u }] }\nupstreams: [{ name: u, endpoints: ["127.0.0.1:1"] }]\n`;
  for (const [a, b] of [['127.0.0.1:19110', '0.0.0.0:19110'], ['0.0.0.0:19110', '127.0.0.1:19110'], ['127.0.0.1:19110', '[::]:19110'], ['127.0.0.1:19110', ':19110']]) {
    t.same((t.throws(() => parsePolicy(listeners(a!, b!), 'x.yaml')) as PolicyError).problems, [`line 3: listeners[1].address: address ${b} is already used by listener "a"`], `${a} then ${b}`);
  }
  t.equal(parsePolicy(listeners('127.0.0.1:19110', '127.0.0.2:19110'), 'x').listeners.length, 2, 'two specific addresses may share a port');
});

t.test('hedge: a delay or a latency percentile, at most maxAttempts in flight, spending the retry budget', async (t) => {
  const route = (hedge: string, extra = '') => parsePolicy(minimal(`, hedge: ${hedge}${extra}`), 'x').listeners[0]!.routes[0]!;
  t.same(route('{ delay: 50ms }').hedge, { delayMs: 50, maxAttempts: 2 });
  t.same(route('{ delay: p99.9, maxAttempts: 3 }').hedge, { percentile: 99.9, maxAttempts: 3 });
  t.same(route('{ delay: p95 }').retry.budget, { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 }, 'the retry budget hedges withdraw from');
  t.equal(parsePolicy(minimal(), 'x').listeners[0]!.routes[0]!.hedge, undefined);
  const problems = (hedge: string, extra = '') => (t.throws(() => route(hedge, extra)) as PolicyError).problems;
  const hint = 'must be a duration such as 50ms or a latency percentile such as p95 or p99.9';
  for (const delay of ['50', 'p100', 'p0', 'fast']) t.same(problems(`{ delay: ${delay} }`), [`line 1: listeners[0].routes[0].hedge.delay: ${hint}`], delay);
  t.same(problems('{ delay: 50ms, maxAttempts: 6 }'), ['line 1: listeners[0].routes[0].hedge.maxAttempts: must be <= 5']);
  t.same(problems('{ delay: 0ms }'), ['line 1: listeners[0].routes[0].hedge.delay: must be longer than 0']);
  t.same(problems('{ delay: 2s }', ', timeout: 2s'), ['line 1: listeners[0].routes[0].hedge.delay: must be shorter than the route timeout, or no hedge is ever sent']);
});

t.test("defaults come from the schema: a bare route and upstream get the schema's defaults", async (t) => {
  const policy = parsePolicy(minimal(', circuitBreaker: {}'), 'x');
  const route = policy.listeners[0]!.routes[0]!;
  const d = POLICY_DEFAULTS.listeners.routes;
  t.equal(route.timeoutMs, d.timeoutMs);
  t.equal(route.retry.attempts, d.retry.attempts);
  t.same(route.retry.backoff, d.retry.backoff);
  t.same(route.circuitBreaker!.failOn, failureConditions(d.circuitBreaker.failOn));
  t.same(policy.upstreams[0]!.pool, POLICY_DEFAULTS.upstreams.pool);
  t.same(policy.drain, POLICY_DEFAULTS.drain);
  t.equal(policy.admin.address.text, POLICY_DEFAULTS.admin.address);
});

t.test('upgrade: the protocols a route tunnels, none by default; tunnelIdleTimeout 10m by default and never 0', async (t) => {
  const bare = parsePolicy(minimal(), 'x').listeners[0]!.routes[0]!;
  t.same([...bare.upgrade], [], 'no upgrade unless listed');
  t.equal(bare.tunnelIdleTimeoutMs, 600_000);
  const ws = parsePolicy(minimal(', upgrade: [websocket, irc], tunnelIdleTimeout: 90s'), 'x').listeners[0]!.routes[0]!;
  t.same([...ws.upgrade], ['websocket', 'irc']);
  t.equal(ws.tunnelIdleTimeoutMs, 90_000);
  const err = t.throws(() => parsePolicy(minimal(', upgrade: [WebSocket], tunnelIdleTimeout: 0s'), 'x')) as PolicyError;
  const text = err.problems.join('\n');
  t.match(text, /upgrade\/0|upgrade\.0|upgrade\[0\]/, 'a protocol not in lower case is named by path');
  t.match(text, /tunnelIdleTimeout.*longer than 0/);
  const h2c = `listeners: [{ name: e, address: "127.0.0.1:0", routes: [{ name: r, upstream: u, upgrade: [websocket] }] }]\nupstreams: [{ name: u, protocol: h2c, endpoints: ["127.0.0.1:1"] }]\n`;
  const h2cErr = t.throws(() => parsePolicy(h2c, 'x')) as PolicyError;
  t.match(h2cErr.problems.join('\n'), /routes\[0\]\.upgrade: needs an http1 upstream.*"u" speaks h2c/, 'an upgrade route to an HTTP/2 upstream is refused');
});

t.test('gRPC status names in retry.on and failOn become codes; a mistyped one is answered with the nearest name', async (t) => {
  const route = (extra: string) => parsePolicy(minimal(extra), 'x').listeners[0]!.routes[0]!;
  const on = route(', retry: { attempts: 2, on: [unavailable, resource-exhausted, cancelled, deadline-exceeded, internal, unknown, 503] }').retry.on;
  t.same([...on.grpcCodes].sort((a, b) => a - b), [1, 2, 4, 8, 13, 14]);
  t.same([...on.statuses], [503], 'gRPC names add no HTTP status');
  t.same(route('').retry.on.grpcCodes, new Set(), 'none by default');
  const failOn = route(', circuitBreaker: { failOn: [unavailable, timeout] }').circuitBreaker!.failOn;
  t.same(failOn, { statuses: new Set(), grpcCodes: new Set([14]), connectFailure: false, reset: false, timeout: true });
  t.equal(route(', circuitBreaker: { failOn: [5xx] }').circuitBreaker!.failOn.reset, true, '5xx counts resets, as before');
  const problems = (extra: string) => (t.throws(() => route(extra)) as PolicyError).problems;
  t.same(problems(', retry: { attempts: 2, on: [unavailble] }'), ['line 1: listeners[0].routes[0].retry.on[0]: unknown value "unavailble"; did you mean `unavailable`?']);
  t.same(problems(', circuitBreaker: { failOn: [resource-exausted] }'), [
    'line 1: listeners[0].routes[0].circuitBreaker.failOn[0]: unknown value "resource-exausted"; did you mean `resource-exhausted`?',
  ]);
  t.match(problems(', retry: { attempts: 2, on: [ok] }')[0], /retry\.on\[0\]: must be one of/, 'ok is no failure to retry');
});

t.test('match.grpc: service, method or both; never beside path or pathPrefix', async (t) => {
  const route = (match: string) => parsePolicy(minimal(`, match: ${match}`), 'x').listeners[0]!.routes[0]!;
  const both = route('{ grpc: { service: breakwater.demo.Demo, method: Unary } }').match;
  t.same(both.grpc, { service: 'breakwater.demo.Demo', method: 'Unary' });
  t.equal(both.pathPrefix, undefined, 'no default prefix beside grpc');
  t.same(route('{ grpc: { method: Unary }, headers: { x-tenant: blue } }').match.grpc, { method: 'Unary' });
  const problems = (match: string) => (t.throws(() => route(match)) as PolicyError).problems;
  t.same(problems('{ grpc: {} }'), ['line 1: listeners[0].routes[0].match.grpc: needs service, method or both']);
  t.same(problems('{ pathPrefix: /api, grpc: { service: a.B } }'), [
    "line 1: listeners[0].routes[0].match.pathPrefix: cannot be combined with match.grpc: a gRPC call's path is /<service>/<method>, which grpc already names",
  ]);
  t.match(problems('{ path: /a.B/C, grpc: { method: C } }')[0], /match\.path: cannot be combined with match\.grpc/);
  t.same(problems('{ grpc: { service: "a/B" } }'), ['line 1: listeners[0].routes[0].match.grpc.service: has characters that are not allowed here']);
  t.same(problems('{ grpc: { service: a.B, methd: C } }'), ['line 1: listeners[0].routes[0].match.grpc.methd: unknown key; did you mean `method`?']);
});

t.test('upstream protocol: http1 by default, h2c without TLS, h2 only with it; streams per connection for HTTP/2', async (t) => {
  const upstream = (fields: string) => `listeners: [{ name: e, address: "127.0.0.1:0", routes: [{ name: r, upstream: u }] }]\nupstreams: [{ name: u, ${fields} }]\n`;
  const plain = parsePolicy(upstream('endpoints: ["a:1"]'), 'x').upstreams[0]!;
  t.equal(plain.protocol, 'http1');
  t.equal(plain.pool.maxStreamsPerConnection, 100);
  const h2c = parsePolicy(upstream('endpoints: ["a:1"], protocol: h2c, pool: { maxStreamsPerConnection: 250 }'), 'x').upstreams[0]!;
  t.equal(h2c.protocol, 'h2c');
  t.equal(h2c.pool.maxStreamsPerConnection, 250);
  t.equal(parsePolicy(upstream('endpoints: ["https://a:1"], protocol: h2'), 'x').upstreams[0]!.protocol, 'h2');
  t.same(parsePolicy(upstream('dns: { name: svc.ns, port: 443 }, tls: {}, protocol: h2'), 'x').upstreams[0]!.tls, { serverName: 'svc.ns' }, 'verified as any TLS upstream');
  const problems = (fields: string) => (t.throws(() => parsePolicy(upstream(fields), 'x')) as PolicyError).problems;
  t.same(problems('endpoints: ["a:1"], protocol: h2'), ['line 2: upstreams[0].protocol: h2 is HTTP/2 over TLS: add a tls block or use https:// endpoints (h2c is HTTP/2 without TLS)']);
  t.same(problems('endpoints: ["a:1"], tls: {}, protocol: h2c'), ['line 2: upstreams[0].protocol: h2c is HTTP/2 without TLS, but this upstream uses TLS: use h2']);
  t.same(problems('endpoints: ["a:1"], pool: { maxStreamsPerConnection: 10 }'), [
    'line 2: upstreams[0].pool.maxStreamsPerConnection: applies to HTTP/2 only: set protocol to h2c or h2, or remove it',
  ]);
  t.same(problems('endpoints: ["a:1"], protocol: h3'), ['line 2: upstreams[0].protocol: unknown value "h3"; did you mean `h2`?']);
});

t.test('listener http2: bounded defaults, sizes in bytes, and limits HTTP/2 itself allows', async (t) => {
  const listener = (http2: string) =>
    `listeners:\n  - name: e\n    address: 127.0.0.1:0\n    http2: ${http2}\n    routes: [{ name: r, upstream: u }]\nupstreams: [{ name: u, endpoints: ["127.0.0.1:1"] }]\n`;
  t.same(parsePolicy(minimal(), 'x').listeners[0]!.http2, { enabled: true, maxConcurrentStreams: 100, maxHeaderListSizeBytes: 16 * 1024, initialWindowSizeBytes: 1024 * 1024 });
  t.same(parsePolicy(listener('{ enabled: false, maxConcurrentStreams: 10, maxHeaderListSize: 8KiB, initialWindowSize: 65535 }'), 'x').listeners[0]!.http2, {
    enabled: false,
    maxConcurrentStreams: 10,
    maxHeaderListSizeBytes: 8192,
    initialWindowSizeBytes: 65535,
  });
  const err = t.throws(() => parsePolicy(listener('{ maxConcurrentStreams: 0, maxHeaderListSize: 100, initialWindowSize: 2147483648 }'), 'x')) as PolicyError;
  t.same(err.problems, [
    'line 4: listeners[0].http2.maxConcurrentStreams: must be >= 1',
    'line 4: listeners[0].http2.maxHeaderListSize: must be between 1KiB and 4294967295 bytes',
    'line 4: listeners[0].http2.initialWindowSize: must be between 1KiB and 2147483647 bytes',
  ]);
});
