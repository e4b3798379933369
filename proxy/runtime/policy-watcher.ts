/**
 * Reloads when the policy file changes. Kubernetes ConfigMap volumes swap a `..data` symlink atomically, and a watch
 * on the file itself goes silent after the first swap, so the directory is watched; events are debounced and a
 * content hash skips reloads that change nothing. A slow poll covers filesystems where watching is unreliable.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface PolicyWatcherOptions {
  debounceMs?: number;
  pollMs?: number;
  onError?: (err: Error) => void;
}

export class PolicyWatcher {
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastHash: string | undefined;

  constructor(
    private readonly file: string,
    private readonly onChange: () => void,
    private readonly options: PolicyWatcherOptions = {},
  ) {}

  async start(): Promise<void> {
    this.lastHash = await this.hash();
    const name = basename(this.file);
    this.watcher = watch(dirname(this.file), (_event, changed) => {
      if (changed === null || changed === name || changed === '..data' || String(changed).startsWith('..')) this.schedule();
    });
    this.watcher.on('error', (err) => this.options.onError?.(err));
    this.poll = setInterval(() => this.schedule(), this.options.pollMs ?? 10_000);
    this.poll.unref();
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.check(), this.options.debounceMs ?? 150);
  }

  private async check(): Promise<void> {
    const hash = await this.hash();
    if (hash === undefined || hash === this.lastHash) return; // missing mid-swap, or unchanged
    this.lastHash = hash;
    this.onChange();
  }

  private async hash(): Promise<string | undefined> {
    try {
      return createHash('sha256').update(await readFile(this.file)).digest('hex');
    } catch {
      return undefined;
    }
  }
}
