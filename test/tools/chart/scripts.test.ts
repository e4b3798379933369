// The chart's two inline scripts (legacy sidecar postStart wait, `helm test` check), run as rendered, against
// local stand-ins for the proxy's admin endpoints and the demo client's /stats.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { render } from './helm.js';
import { container, podTemplate, find } from './manifests.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(t: Test, handler: Handler): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Runs a rendered `node ...` command with this Node, bounded; returns exit code and output. */
async function run(t: Test, command: string[]): Promise<{ code: number | null; output: string }> {
  const [, ...args] = command;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`script still running after 15 s: ${output}`)), 15_000);
    child.on('exit', (exitCode) => { clearTimeout(timer); resolve(exitCode); });
  });
  return { code, output };
}

function postStartCommand(): string[] {
  const spec = podTemplate(find(render({ kubeVersion: '1.28.0' }), 'Deployment', 'breakwater-demo-demo-client')).spec;
  const command = container(spec, 'breakwater').lifecycle?.postStart?.exec?.command;
  if (!command) throw new Error('the legacy sidecar has no postStart exec command');
  return command;
}

function helmTestCommand(): string[] {
  const pod = render().find((m) => m.metadata.annotations?.['helm.sh/hook'] === 'test');
  if (!pod) throw new Error('no helm test pod rendered');
  return podTemplate(pod).spec.containers[0]!.command!;
}

t.test('postStart wait: returns 0 once /readyz answers 200', async (t) => {
  let requests = 0;
  const base = await serve(t, (req, res) => {
    requests += 1;
    res.writeHead(req.url === '/readyz' && requests >= 3 ? 200 : 503).end();
  });
  const command = postStartCommand();
  t.equal(command.at(-2), 'http://127.0.0.1:9901/readyz', 'rendered to poll the admin port');
  const { code, output } = await run(t, [...command.slice(0, -2), `${base}/readyz`, '10']);
  t.equal(code, 0, output);
  t.equal(requests, 3, 'polled until ready, then stopped');
});

t.test('postStart wait: fails the container when the proxy never becomes ready', async (t) => {
  const base = await serve(t, (_req, res) => res.writeHead(503).end());
  const { code, output } = await run(t, [...postStartCommand().slice(0, -2), `${base}/readyz`, '1']);
  t.equal(code, 1);
  t.match(output, /not ready after 1s \(status 503\)/);
});

function fakeDemo(t: Test, opts: { windowOk: number; proxied2xx: number }): Promise<string> {
  return serve(t, (req, res) => {
    if (req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ count: 10, ok: 7, window: { count: 5, ok: opts.windowOk, seconds: 60 } }));
    } else if (req.url === '/readyz') {
      res.writeHead(200).end('ready');
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end([
        '# TYPE breakwater_requests_total counter',
        `breakwater_requests_total{listener="egress",route="api",upstream="backend",status_class="2xx",outcome="success"} ${opts.proxied2xx}`,
        'breakwater_requests_total{listener="egress",route="api",upstream="backend",status_class="5xx",outcome="fallback"} 4',
        '',
      ].join('\n'));
    } else {
      res.writeHead(404).end();
    }
  });
}

t.test('helm test: passes when the client succeeds through a sidecar that proxied 2xx answers', async (t) => {
  const base = await fakeDemo(t, { windowOk: 3, proxied2xx: 12 });
  const command = helmTestCommand();
  const { code, output } = await run(t, [...command.slice(0, 4), `${base}/stats`, base, '5']);
  t.equal(code, 0, output);
  t.match(output, /3 of 5 recent requests succeeded; 12 2xx answers proxied/);
});

t.test('helm test: fails when nothing got through the sidecar', async (t) => {
  const base = await fakeDemo(t, { windowOk: 3, proxied2xx: 0 });
  const { code, output } = await run(t, [...helmTestCommand().slice(0, 4), `${base}/stats`, base, '1']);
  t.equal(code, 1);
  t.match(output, /has not answered any request with 2xx/);
});

t.test('helm test: fails when the client has no recent success', async (t) => {
  const base = await fakeDemo(t, { windowOk: 0, proxied2xx: 12 });
  const { code, output } = await run(t, [...helmTestCommand().slice(0, 4), `${base}/stats`, '-', '1']);
  t.equal(code, 1);
  t.match(output, /no successful request in the client's window/);
});
