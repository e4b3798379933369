// A TCP relay in front of one replica: a network fault without root. `drop` swallows traffic both ways (a partition:
// connections open but nothing arrives), `delay` holds each chunk for a while (added network latency).
import { TcpForwarder } from './tcp-forwarder.js';

export type RelayMode = { kind: 'pass' } | { kind: 'drop' } | { kind: 'delay'; delayMs: number };

export class BlackholeRelay {
  mode: RelayMode = { kind: 'pass' };
  private readonly forwarder: TcpForwarder;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(target: () => string) {
    this.forwarder = new TcpForwarder({
      pickTarget: target,
      gate: (forward) => this.gate(forward),
    });
  }

  listen(host?: string): Promise<string> {
    return this.forwarder.listen(host);
  }

  private gate(forward: () => void): void {
    const mode = this.mode;
    if (mode.kind === 'pass') forward();
    else if (mode.kind === 'delay') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        forward();
      }, mode.delayMs);
      this.timers.add(timer);
    }
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await this.forwarder.close();
  }
}
