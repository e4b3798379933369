import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { request } from 'undici';
import { startBackend } from '../../helpers/demo-backend.js';

const MAIN = fileURLToPath(new URL('../../../dist/demo-backend/main.js', import.meta.url));

/** Runs main.js to completion (bounded), returning exit code and output. */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`main.js ${args.join(' ')} did not exit within 20 s; stderr:\n${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('bad flags and env values exit 2 naming the flag and the value', async (t) => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['--failure-rate', 'often'], {}, /--failure-rate .*"often"/],
    [['--slow-delay', '5'], {}, /--slow-delay .*"5"/],
    [['--port', '70000'], {}, /--port .*70000/],
    [['--log-level', 'loud'], {}, /--log-level .*"loud"/],
    [['--bogus'], {}, /--bogus/],
    [[], { BACKEND_SLOW_RATE: '2' }, /--slow-rate \(BACKEND_SLOW_RATE\) .*2/],
  ];
  const results = await Promise.all(cases.map(([args, env]) => run(['--port', '0', ...args], env)));
  cases.forEach(([args, env, message], i) => {
    t.equal(results[i]!.code, 2, `${args.join(' ') || JSON.stringify(env)} exits 2`);
    t.match(results[i]!.stderr, message);
  });
});

t.test('--help lists every flag and exits 0', async (t) => {
  const result = await run(['--help']);
  t.equal(result.code, 0);
  for (const flag of ['--host', '--port', '--name', '--failure-rate', '--seed', '--ready-delay', '--log-level']) {
    t.match(result.stdout, flag);
  }
});

t.test('one backend from start to SIGTERM', async (t) => {
  const backend = await startBackend({ readyDelay: '10m' });
  t.teardown(() => backend.stop());

  t.test('the listening line carries port and url; default name is backend-<port>', async (t) => {
    t.equal(backend.url, `http://127.0.0.1:${backend.port}`);
    t.equal(backend.name, `backend-${backend.port}`);
    t.equal((await backend.stats()).name, backend.name);
  });

  t.test('readyz answers 503 while ready-delay has not passed; healthz 200', async (t) => {
    const response = await request(`${backend.url}/readyz`);
    t.equal(response.statusCode, 503);
    t.match(await response.body.json(), { status: 'warming up', readyInMs: Number });
    const health = await request(`${backend.url}/healthz`);
    await health.body.dump();
    t.equal(health.statusCode, 200, 'alive while not ready');
  });

  t.test('SIGTERM exits 0, even with a request hanging', async (t) => {
    await backend.setFaults({ hang: true });
    const hung = request(`${backend.url}/api/data`).then(
      () => 'answered',
      () => 'connection closed',
    );
    const deadline = Date.now() + 5_000;
    while ((await backend.stats()).inFlight < 1 && Date.now() < deadline);
    backend.kill('SIGTERM');
    t.same(await backend.exited, { code: 0, signal: null });
    t.equal(await hung, 'connection closed');
  });
});
