/**
 * A directory laid out as the kubelet lays out a ConfigMap volume: each key is a symlink KEY -> ..data/KEY, ..data a
 * symlink to a timestamped directory, and an update swaps ..data by rename, atomically. Mounted read-only into a
 * container, it shows the proxy what a ConfigMap edit looks like on a node. Readable by any uid (mode 0644/0755, the
 * ConfigMap default), so the image's unprivileged user reads it without owning it.
 */
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class ConfigMapDir {
  readonly path = mkdtempSync(join(tmpdir(), 'bw-configmap-'));
  private generation = 0;

  constructor(data: Record<string, string>) {
    chmodSync(this.path, 0o755);
    this.update(data);
    for (const key of Object.keys(data)) symlinkSync(join('..data', key), join(this.path, key));
  }

  /** Writes a new generation and swaps ..data to it, as the kubelet does after a ConfigMap edit. */
  update(data: Record<string, string>): void {
    const generationDir = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${++this.generation}`;
    mkdirSync(join(this.path, generationDir), { mode: 0o755 });
    for (const [key, text] of Object.entries(data)) writeFileSync(join(this.path, generationDir, key), text, { mode: 0o644 });
    let previous: string | undefined;
    try { previous = readlinkSync(join(this.path, '..data')); } catch { /* the first generation */ }
    symlinkSync(generationDir, join(this.path, '..data_tmp'));
    renameSync(join(this.path, '..data_tmp'), join(this.path, '..data'));
    if (previous) rmSync(join(this.path, previous), { recursive: true });
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
