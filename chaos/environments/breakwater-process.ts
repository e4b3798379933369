// Breakwater as a real process, with the generated policy file kept in the run folder for inspection.
import { writeFile } from 'node:fs/promises';
import { distFile } from '../runner/dist-path.js';
import type { ProcessRegistry, StartedProcess } from '../runner/processes.js';

export interface RunningBreakwater {
  process: StartedProcess;
  listenerUrl: string;
  adminUrl: string;
}

/** `netns`: run it inside that network namespace (the mini-cluster's client pod). */
export async function startBreakwater(registry: ProcessRegistry, configFile: string, configYaml: string, netns?: string): Promise<RunningBreakwater> {
  await writeFile(configFile, configYaml);
  const addresses = new Map<string, string>();
  const record = (line: Record<string, unknown>) => {
    if (line.msg === 'listening' && typeof line.listener === 'string' && typeof line.address === 'string') {
      addresses.set(line.listener, line.address);
    }
  };
  // Ready once both the egress listener and the admin endpoint have announced their bound addresses.
  const process = await registry.start({
    label: 'breakwater',
    command: globalThis.process.execPath,
    args: [distFile('proxy', 'cli.js'), '--config', configFile],
    netns,
    ready: (line) => {
      record(line);
      return addresses.has('egress') && addresses.has('admin');
    },
  });
  return { process, listenerUrl: `http://${addresses.get('egress')}`, adminUrl: `http://${addresses.get('admin')}` };
}
