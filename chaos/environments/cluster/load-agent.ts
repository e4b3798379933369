#!/usr/bin/env node
// The client container of the mini-cluster's client pod: started inside the pod's namespace, it runs the chaos
// runner's own load code there and streams every record back. Commands arrive as JSON lines on stdin, answers leave
// as JSON lines on stdout (see client-pod-load.ts). It exits when stdin closes: the runner is gone.
import { createInterface } from 'node:readline';
import type { LoadOptions, LoadProtocol } from '../../../demo-client/load.js';
import { inProcessLoad } from '../../runner/load-driver.js';

export type AgentCommand =
  | { op: 'warmup'; id: number; url: string; method: string; protocol: LoadProtocol }
  | { op: 'run'; id: number; options: Omit<LoadOptions, 'signal' | 'onRecord'> }
  | { op: 'stop'; id: number };

const stops = new Map<number, AbortController>();
const send = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function handle(command: AgentCommand): Promise<void> {
  if (command.op === 'stop') {
    stops.get(command.id)?.abort();
    return;
  }
  try {
    if (command.op === 'warmup') {
      await inProcessLoad.warmUp(command.url, command.method, command.protocol);
    } else {
      const stop = new AbortController();
      stops.set(command.id, stop);
      await inProcessLoad.run({ ...command.options, signal: stop.signal, onRecord: (record) => send({ id: command.id, record }) });
      stops.delete(command.id);
    }
    send({ id: command.id, done: true });
  } catch (error) {
    send({ id: command.id, error: (error as Error).message });
  }
}

createInterface({ input: process.stdin })
  .on('line', (text) => void handle(JSON.parse(text) as AgentCommand))
  .on('close', () => process.exit(0));
send({ msg: 'ready' });
