// Per-process CPU time and resident memory straight from procfs (Linux only).
import { readFileSync, readdirSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ; fixed at 100 on every mainstream Linux ABI

/** utime + stime of one process in microseconds. */
export function cpuTimeUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** The machine's CPU time so far, in clock ticks: all of it, and what the hypervisor took (steal). */
export function machineCpuTicks(): { total: number; steal: number } {
  // First line of /proc/stat: cpu user nice system idle iowait irq softirq steal guest guest_nice
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: fields.reduce((sum, ticks) => sum + ticks, 0), steal: fields[7] ?? 0 };
}

/** Percent of the CPU time between two readings that the hypervisor gave to other guests. */
export function stealPercent(before: { total: number; steal: number }, after: { total: number; steal: number }): number {
  const total = after.total - before.total;
  return total > 0 ? ((after.steal - before.steal) * 100) / total : 0;
}

/** VmRSS of one process in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/**
 * Time every thread of one process has run, in nanoseconds (`/proc/<pid>/task/<tid>/schedstat`), and how often its
 * main thread gave up the CPU to wait (`voluntary_ctxt_switches`): a process waking for timers with no work to do shows
 * in both, at a resolution the 10 ms clock ticks of /proc/<pid>/stat do not have.
 */
export function runTimeAndWakeups(pid: number): { runNs: number; wakeups: number } {
  let runNs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      runNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0]);
    } catch {
      // The thread ended while the directory was being read.
    }
  }
  const match = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no voluntary_ctxt_switches in /proc/${pid}/task/${pid}/status`);
  return { runNs, wakeups: Number(match[1]) };
}

/** PIDs whose parent is `pid` (e.g. nginx's worker under the master the harness started). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // The process ended while the directory was being read.
    }
  }
  return children;
}

export interface RssSummary {
  peakBytes: number;
  medianBytes: number;
}

/** Samples a process's RSS while a measurement runs; stop() may be called more than once. */
export function trackRss(pid: number, intervalMs = 100): { stop(): RssSummary } {
  const samples = [rssBytes(pid)];
  const sample = (): void => {
    try {
      samples.push(rssBytes(pid));
    } catch {
      // The process died mid-window; the load generator's errors will say so.
    }
  };
  const timer = setInterval(sample, intervalMs);
  let summary: RssSummary | undefined;
  return {
    stop() {
      if (summary) return summary;
      clearInterval(timer);
      sample();
      const sorted = samples.sort((a, b) => a - b);
      summary = { peakBytes: sorted[sorted.length - 1]!, medianBytes: sorted[Math.floor(sorted.length / 2)]! };
      return summary;
    },
  };
}

/** File descriptors one process holds open (its sockets among them). */
export function openFileCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The soft limit on open files of one process ("Max open files" in /proc/<pid>/limits). */
export function openFileLimit(pid: number): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  if (!match) throw new Error(`no "Max open files" in /proc/${pid}/limits`);
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}
