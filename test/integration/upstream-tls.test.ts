import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { CLI, http, metricValue, startBreakwater } from '../helpers/breakwater.js';
import { makeCertificates, startHttpsBackend } from '../helpers/tls-fixture.js';

const certs = makeCertificates(['api.internal', 'localhost']);
t.teardown(() => certs.remove());

const egress = (routes: Array<{ name: string; upstream: string }>) => [
  { name: 'egress', address: '127.0.0.1:0', routes: routes.map((r) => ({ ...r, match: { pathPrefix: `/${r.name}` } })) },
];

t.test('a tls block puts static endpoints written without https:// on TLS, verified against serverName', async (t) => {
  const backend = await startHttpsBackend(certs);
  t.teardown(() => backend.close());
  const bw = await startBreakwater({
    listeners: egress([{ name: 'api', upstream: 'secure' }]),
    upstreams: [{ name: 'secure', endpoints: [`127.0.0.1:${backend.port}`], tls: { serverName: 'api.internal', caFile: certs.caFile } }],
  });
  t.teardown(() => bw.stop());
  const res = await http(`${bw.url}/api/data`);
  t.equal(res.status, 200, `answered over TLS: ${res.body}`);
  t.same(backend.seen, [{ servername: 'api.internal', host: `127.0.0.1:${backend.port}` }], 'SNI is serverName; Host stays the endpoint');
});

t.test('a tls block puts DNS-discovered endpoints on TLS, verified against the DNS name', async (t) => {
  const backend = await startHttpsBackend(certs);
  t.teardown(() => backend.close());
  const bw = await startBreakwater({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'svc', retry: { attempts: 3, on: ['connect-failure'] } }] }],
    upstreams: [{ name: 'svc', dns: { name: 'localhost', port: backend.port, refresh: '1s' }, tls: { caFile: certs.caFile } }],
  });
  t.teardown(() => bw.stop());
  const res = await http(`${bw.url}/api/data`);
  t.equal(res.status, 200, `answered over TLS: ${res.body}`);
  t.same(backend.seen.at(-1), { servername: 'localhost', host: `localhost:${backend.port}` }, 'SNI and Host are the DNS name, not the address it resolved to');
});

t.test('a certificate the upstream does not trust fails the attempt as a connect failure, even with NODE_TLS_REJECT_UNAUTHORIZED=0', async (t) => {
  const backend = await startHttpsBackend(certs);
  t.teardown(() => backend.close());
  const endpoints = [`127.0.0.1:${backend.port}`];
  const bw = await startBreakwater(
    {
      listeners: egress([
        { name: 'other-ca', upstream: 'other-ca' },
        { name: 'other-name', upstream: 'other-name' },
      ]),
      upstreams: [
        { name: 'other-ca', endpoints, tls: { serverName: 'api.internal', caFile: certs.otherCaFile } },
        { name: 'other-name', endpoints, tls: { serverName: 'elsewhere.internal', caFile: certs.caFile } },
      ],
    },
    { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } },
  );
  t.teardown(() => bw.stop());
  for (const upstream of ['other-ca', 'other-name']) {
    const res = await http(`${bw.url}/${upstream}/data`);
    t.equal(res.status, 502, `${upstream}: answered as a TLS failure`);
    t.equal(JSON.parse(res.body).error, 'tls-error', `${upstream}: reported as what it is`);
    t.equal(res.headers['x-breakwater-attempts'], '1', `${upstream}: deterministic, so not retried`);
    t.equal(metricValue(await bw.metrics(), 'breakwater_upstream_attempts_total', { upstream, result: 'tls-error' }), 1, `${upstream}: counted as tls-error`);
  }
  t.same(backend.seen, [], 'no request reached the backend');
});

t.test('breakwater validate: TLS that cannot be honoured, and a caFile that is missing or not PEM, fail with their lines', async (t) => {
  const garbage = join(certs.dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  const broken = join(certs.dir, 'broken.pem');
  writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const file = join(certs.dir, 'policy.yaml');
  writeFileSync(
    file,
    [
      'listeners: [{ name: e, address: "127.0.0.1:0", routes: [{ name: r, upstream: a }] }]',
      'upstreams:',
      '  - name: a',
      '    endpoints: ["127.0.0.1:1", "http://127.0.0.1:2"]',
      '    tls: { serverName: api.internal }',
      '  - name: b',
      '    endpoints: ["https://127.0.0.1:3", "http://127.0.0.1:4"]',
      '  - name: c',
      '    endpoints: ["127.0.0.1:5"]',
      `    tls: { caFile: ${join(certs.dir, 'absent.pem')} }`,
      '  - name: d',
      '    dns: { name: localhost, port: 6 }',
      `    tls: { caFile: ${garbage} }`,
      '  - name: e',
      '    endpoints: ["127.0.0.1:7"]',
      `    tls: { caFile: ${broken} }`,
      '',
    ].join('\n'),
  );
  const result = await promisify(execFile)(process.execPath, [CLI, 'validate', file]).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => err,
  );
  t.equal(result.code, 1, 'validate exits 1');
  t.match(result.stderr, /line 4: upstreams\[0\]\.endpoints\[1\]: http:\/\/ in an upstream with a tls block/);
  t.match(result.stderr, /line 7: upstreams\[1\]\.endpoints\[1\]: http:\/\/ beside the https:\/\/ endpoint https:\/\/127\.0\.0\.1:3/);
  t.match(result.stderr, /line 10: upstreams\[2\]\.tls\.caFile: cannot read .*absent\.pem: ENOENT/);
  t.match(result.stderr, /line 13: upstreams\[3\]\.tls\.caFile: .*garbage\.pem holds no PEM certificate/);
  t.match(result.stderr, /line 16: upstreams\[4\]\.tls\.caFile: .*broken\.pem: certificate 1 is not a valid PEM certificate/);
});
