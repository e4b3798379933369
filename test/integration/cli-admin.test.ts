import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { request } from 'undici';
import { startBackend } from '../helpers/demo-backend.js';
import { CLI, startBreakwater } from '../helpers/breakwater.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'breakwater-cli-'));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('validate accepts the shipped example and lists every problem of a bad file by path', async (t) => {
  const good = await cli('validate', 'config/breakwater.yaml');
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout, /ok \(1 listener\(s\), 2 route\(s\), 1 upstream\(s\)\)/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    [
      'listeners:',
      '  - name: egress',
      '    address: 127.0.0.1:15001',
      '    routes:',
      '      - name: a',
      '        upstream: backend',
      '        retry: { attempts: 2 }',
      '      - name: b',
      '        upstream: nowhere',
      '        timeout: soon',
      '        retry: { attempts: 0, jitter: full }',
      '  - name: second',
      '    address: 127.0.0.1:15001',
      '    routes: []',
      'upstreams:',
      '  - name: backend',
      '    endpoints: ["127.0.0.1:18001"]',
      '    pool: { maxConections: 3 }',
    ].join('\n'),
  );
  const result = await cli('validate', bad);
  t.equal(result.code, 1, 'non-zero exit');
  t.match(result.stderr, /listeners\[0\]\.routes\[1\]\.retry\.attempts: must be >= 1/);
  t.match(result.stderr, /listeners\[0\]\.routes\[1\]\.retry\.jitter: unknown key/);
  t.match(result.stderr, /listeners\[0\]\.routes\[1\]\.timeout: must be a duration/);
  t.match(result.stderr, /listeners\[0\]\.routes\[1\]\.upstream: no upstream named "nowhere"/);
  t.match(result.stderr, /listeners\[1\]\.address: address 127\.0\.0\.1:15001 is already used by listener "egress"/);
  t.match(result.stderr, /upstreams\[0\]\.pool\.maxConections: unknown key/);
  t.match(result.stderr, /line 11: /, 'problems carry their line in the file');

  const yamlError = join(dir, 'broken.yaml');
  writeFileSync(yamlError, 'listeners: [\n');
  const broken = await cli('validate', yamlError);
  t.equal(broken.code, 1);
  t.match(broken.stderr, /invalid YAML/);

  const missing = await cli('validate', join(dir, 'absent.yaml'));
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read the policy file/);
});

t.test('nothing starts on a bad file', async (t) => {
  const bad = join(dir, 'start-bad.yaml');
  writeFileSync(bad, 'listeners: []\nupstreams: []\n');
  const result = await cli('--config', bad);
  t.equal(result.code, 1);
  t.match(result.stderr, /listeners: must NOT have fewer than 1 items/);
});

t.test('--help, --version, and usage errors', async (t) => {
  const help = await cli('--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /breakwater validate FILE/);
  const version = await cli('--version');
  t.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const none = await cli();
  t.equal(none.code, 2);
  t.match(none.stderr, /no policy file/);
  const unknown = await cli('frobnicate');
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown command "frobnicate"/);
});

t.test('BREAKWATER_CONFIG, /healthz, /readyz, /config and /metrics', async (t) => {
  const backend = await startBackend({ name: 'b' });
  t.teardown(() => backend.stop());
  const bw = await startBreakwater({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'backend', match: { headers: { authorization: 'Bearer topsecret', 'x-tenant': 'blue' } } }] }],
    upstreams: [{ name: 'backend', endpoints: [backend.address] }],
  });
  t.teardown(() => bw.stop());
  const health = await request(`${bw.admin}/healthz`);
  t.equal(health.statusCode, 200);
  await health.body.dump();
  const ready = await request(`${bw.admin}/readyz`);
  t.equal(ready.statusCode, 200);
  await ready.body.dump();
  const config = await request(`${bw.admin}/config`);
  const text = await config.body.text();
  t.match(text, /"generation":1/);
  t.notMatch(text, /topsecret/, '/config never prints secrets');
  t.match(text, /"x-tenant":"blue"/, 'a caller on loopback sees header values that are not secret-looking');
  t.match(text, /"source":"[^"]+policy\.yaml"/, 'and the policy file');

  const res = await request(`${bw.url}/api/data`, { headers: { authorization: 'Bearer topsecret', 'x-tenant': 'blue' } });
  await res.body.dump();
  const metrics = await bw.metrics();
  for (const name of [
    'breakwater_requests_total',
    'breakwater_request_duration_seconds_bucket',
    'breakwater_upstream_attempts_total',
    'breakwater_config_generation',
    'process_cpu_seconds_total',
    'nodejs_heap_size_used_bytes',
  ]) {
    t.match(metrics, new RegExp(`^${name}`, 'm'), `${name} exposed`);
  }
  t.match(metrics, /breakwater_requests_total\{listener="egress",route="api",upstream="backend",status_class="2xx",outcome="ok"\} 1/);

  const promtool = spawnSync('promtool', ['--version']);
  if (promtool.error) {
    if (process.env.CI) t.fail('promtool is missing; .ci/run installs it (Debian package prometheus)');
    else t.comment('promtool not installed here; CI installs it');
    return;
  }
  const checked = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
  t.equal(checked.status, 0, `promtool check metrics passes:\n${checked.stdout}${checked.stderr}`);
});

t.test('BREAKWATER_CONFIG names the policy file when --config is absent', async (t) => {
  const file = join(dir, 'env.yaml');
  writeFileSync(file, 'admin: { address: "127.0.0.1:0" }\nlisteners: [{ name: e, address: "127.0.0.1:0", routes: [] }]\nupstreams: [{ name: u, endpoints: ["127.0.0.1:1"] }]\ndrain: { delay: 0s }\n');
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [CLI], { env: { ...process.env, BREAKWATER_CONFIG: file }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`not ready within 10 s: ${out}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('breakwater ready')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
  t.match(ready, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.equal(code, 0, 'SIGTERM drains and exits 0');
});
