// The LoadDriver of the mini-cluster: the load runs in a load agent inside the client pod's namespace (started with
// `ip netns exec`), the same runLoad as in process, with records streamed back as JSON lines.
import type { LoadOptions, LoadProtocol, RequestRecord } from '../../../demo-client/load.js';
import { distFile } from '../../runner/dist-path.js';
import type { LoadDriver } from '../../runner/load-driver.js';
import type { ProcessRegistry, StartedProcess } from '../../runner/processes.js';
import type { AgentCommand } from './load-agent.js';

interface Pending {
  onRecord?: (record: RequestRecord) => void;
  records: RequestRecord[];
  resolve: () => void;
  reject: (error: Error) => void;
}

export class ClientPodLoad implements LoadDriver {
  private agent?: StartedProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(
    private readonly registry: ProcessRegistry,
    private readonly netns: string,
  ) {}

  async start(): Promise<void> {
    this.agent = await this.registry.start({
      label: 'load agent (client pod)',
      command: process.execPath,
      args: [distFile('chaos', 'environments', 'cluster', 'load-agent.js')],
      netns: this.netns,
      stdin: true,
      ready: (line) => line.msg === 'ready',
      onLine: (line) => this.receive(line),
    });
    this.agent.child.stdin!.on('error', () => undefined); // an agent that exited is reported through `exited`
    void this.agent.exited.then(() => {
      for (const p of this.pending.values()) p.reject(new Error('the load agent in the client pod exited'));
      this.pending.clear();
    });
  }

  async warmUp(url: string, method: string, protocol: LoadProtocol): Promise<void> {
    await this.call((id) => ({ op: 'warmup', id, url, method, protocol }), {});
  }

  async run(options: LoadOptions): Promise<{ records: RequestRecord[] }> {
    const { signal, onRecord, ...rest } = options;
    const records = await this.call((id) => ({ op: 'run', id, options: rest }), { signal, onRecord });
    return { records: records.sort((a, b) => a.seq - b.seq) };
  }

  private call(
    command: (id: number) => AgentCommand,
    { signal, onRecord }: { signal?: AbortSignal; onRecord?: (r: RequestRecord) => void },
  ): Promise<RequestRecord[]> {
    const agent = this.agent;
    if (!agent) return Promise.reject(new Error('the load agent is not running'));
    const id = this.nextId++;
    const records: RequestRecord[] = [];
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { onRecord, records, resolve, reject }));
    const stop = () => this.send({ op: 'stop', id });
    signal?.addEventListener('abort', stop, { once: true });
    this.send(command(id));
    if (signal?.aborted) stop();
    return done.then(() => records).finally(() => signal?.removeEventListener('abort', stop));
  }

  private send(command: AgentCommand): void {
    if (this.agent?.child.stdin?.writable) this.agent.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  private receive(line: Record<string, unknown>): void {
    const pending = this.pending.get(line.id as number);
    if (!pending) return;
    if (line.record) {
      const record = line.record as RequestRecord;
      pending.records.push(record);
      pending.onRecord?.(record);
      return;
    }
    this.pending.delete(line.id as number);
    if (line.done) pending.resolve();
    else pending.reject(new Error(`load agent: ${String(line.error)}`));
  }

  async stop(): Promise<void> {
    if (this.agent) await this.registry.stop(this.agent);
  }
}
