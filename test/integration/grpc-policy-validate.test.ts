/**
 * `breakwater validate` knows the HTTP/2 and gRPC keys: a policy using every one of them is ok, and the mistakes
 * a person is likely to make with them (a misspelt gRPC status, grpc beside a path, h2 without TLS) are named by
 * path and line with what to write instead.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { CLI } from '../helpers/breakwater.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'breakwater-grpc-policy-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function validate(name: string, text: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(dir, name);
  writeFileSync(file, text);
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'validate', file], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const EVERY_KEY = `listeners:
  - name: egress
    address: 127.0.0.1:15001
    http2: { enabled: true, maxConcurrentStreams: 200, maxHeaderListSize: 32KiB, initialWindowSize: 2MiB }
    routes:
      - name: demo-unary
        match: { grpc: { service: breakwater.demo.Demo, method: Unary } }
        upstream: grpc-demo
        timeout: 2s
        retry:
          attempts: 3
          on: [connect-failure, reset, unavailable, resource-exhausted, cancelled, deadline-exceeded, internal, unknown]
        circuitBreaker: { failOn: [unavailable, internal, timeout, connect-failure], consecutiveFailures: 5 }
      - name: health
        match: { grpc: { method: Check } }
        upstream: grpc-tls
      - name: rest
        upstream: grpc-demo
upstreams:
  - name: grpc-demo
    endpoints: ["127.0.0.1:50051", "127.0.0.1:50052"]
    protocol: h2c
    pool: { maxConnections: 4, maxStreamsPerConnection: 250 }
  - name: grpc-tls
    endpoints: ["https://127.0.0.1:50443"]
    protocol: h2
`;

t.test('a policy using every HTTP/2 and gRPC key validates', async (t) => {
  const result = await validate('every-key.yaml', EVERY_KEY);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /ok \(1 listener\(s\), 3 route\(s\), 2 upstream\(s\)\)/);
});

t.test('mistakes with the new keys are named by path and line, with what to write instead', async (t) => {
  const bad = EVERY_KEY.replace('unavailable, resource-exhausted', 'unavailble, resource-exhausted')
    .replace('{ grpc: { method: Check } }', '{ pathPrefix: /grpc.health.v1.Health, grpc: { method: Check } }')
    .replace('protocol: h2\n', 'protocol: h2\n    pool: { maxStreamsPerConnection: 0 }\n')
    .replace('["https://127.0.0.1:50443"]', '["127.0.0.1:50443"]');
  const result = await validate('bad.yaml', bad);
  t.equal(result.code, 1, 'non-zero exit');
  t.match(result.stderr, /line 12: listeners\[0\]\.routes\[0\]\.retry\.on\[2\]: unknown value "unavailble"; did you mean `unavailable`\?/);
  t.match(result.stderr, /line 15: listeners\[0\]\.routes\[1\]\.match\.pathPrefix: cannot be combined with match\.grpc/);
  t.match(result.stderr, /upstreams\[1\]\.protocol: h2 is HTTP\/2 over TLS: add a tls block or use https:\/\/ endpoints/);
  t.match(result.stderr, /upstreams\[1\]\.pool\.maxStreamsPerConnection: must be >= 1/);
});
