/**
 * `npm start`: two demo-backend replicas with faults on (30% errors, 20% slow) on 18001/18002, and Breakwater in front
 * of them with config/breakwater.yaml. Ctrl-C stops all three.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];

function start(name: string, args: string[]): Promise<void> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (process.env.DEMO_VERBOSE) process.stdout.write(`[${name}] ${text}`);
      seen += text;
      if (/"msg":"(listening|breakwater ready)"/.test(seen) && (name !== 'breakwater' || seen.includes('breakwater ready'))) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
  });
}

function stopAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGINT');
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

try {
  await start('replica-1', ['dist/demo-backend/main.js', '--port', '18001', '--name', 'replica-1']);
  await start('replica-2', ['dist/demo-backend/main.js', '--port', '18002', '--name', 'replica-2']);
  await start('breakwater', ['dist/proxy/cli.js', '--config', 'config/breakwater.yaml']);
} catch (err) {
  console.error(`npm start: ${(err as Error).message}`);
  stopAll();
  process.exit(1);
}
console.log(`
Breakwater is up, in front of two demo backends that fail 30% of calls and stall 20% for 5 s.

  Try it:     curl -si http://127.0.0.1:15001/api/data        (see x-breakwater-attempts)
              curl -si -X POST http://127.0.0.1:15001/api/orders -H 'content-type: application/json' -d '{"item":"rope"}'
  Metrics:    curl -s http://127.0.0.1:9901/metrics | grep ^breakwater_
  Policy:     edit config/breakwater.yaml — it is re-applied without a restart (GET http://127.0.0.1:9901/config)
  Logs:       DEMO_VERBOSE=1 npm start

Ctrl-C stops everything.`);
