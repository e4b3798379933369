import { readFileSync } from 'node:fs';
import t from 'tap';
import { parsePolicy } from '../../proxy/config/load.js';
import { PolicyError } from '../../proxy/config/policy-error.js';
import { parseSize } from '../../proxy/config/size.js';

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
  t.match(text, /listeners\[0\]\.routes\[0\]\.retry\.on\[0\]: must be one of "connect-failure", "reset", "timeout", "5xx", "gateway-error", a status code/);
  t.match(text, /upstreams\[0\]\.endpoints\[0\]: must be host:port or http\(s\):\/\/host:port/);
  t.match(text, /upstreams\[0\]: needs exactly one of endpoints or dns/);
  t.match(text, /upstreams\[0\]\.dns\.refresh: must be longer than 0/);
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
    'line 5: upstreams[0].outlierDetection.baseEjectionTime: must be longer than 0',
    'line 5: upstreams[0].outlierDetection.decayInterval: must be longer than 0',
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
  t.same(err.problems, [
    'line 3: upstreams[0].host: must be a host name with an optional :port, such as api.internal or api.internal:8080',
    'line 3: upstreams[0].dns.timeout: must be longer than 0',
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
  t.match(problems, /line 5: listeners\[0\]\.limits\.headersTimeout: must be longer than 0/);
  t.match(problems, /line 6: listeners\[0\]\.limits\.requestBodyTimeout: must be longer than 0/);
  t.match(problems, /line 7: listeners\[0\]\.limits\.idleTimeout: must be a duration/);
  t.match(problems, /line 8: listeners\[0\]\.limits\.maxConnections: must be >= 1/);
  t.match(problems, /line 9: listeners\[0\]\.limits\.maxHeaderSize: must be at least 1KiB/);
  t.match(problems, /listeners\[0\]\.limits\.maxBodySize: unknown key/);
});

t.test('the policy example in the README loads, listener limits included', async (t) => {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('```yaml\n', readme.indexOf('## The policy file')) + '```yaml\n'.length;
  const policy = parsePolicy(readme.slice(start, readme.indexOf('```', start)), 'README.md');
  t.same(policy.listeners[0]!.limits, { headersTimeoutMs: 10_000, requestBodyTimeoutMs: 30_000, idleTimeoutMs: 65_000, maxConnections: 4096, maxHeaderSizeBytes: 16 * 1024 });
});
