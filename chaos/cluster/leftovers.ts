// Removes what a mini-cluster run that died without cleaning up (SIGKILL, a crash) left behind: namespaces and host
// links named bw-<id>... whose creating process is gone. Names of live runs, and names not of this form, are never
// touched. The processes still in a leftover namespace are ended first, or the namespace would outlive its name.
import { signal } from '../processes.js';
import { run } from './commands.js';
import { clusterIdOf } from './names.js';

export async function removeLeftovers(): Promise<string[]> {
  const namespaces = (await run('ip', ['netns', 'list'])).split('\n').map((line) => line.split(' ')[0]!).filter(Boolean);
  const links = (await run('ip', ['-o', 'link', 'show'])).split('\n')
    .map((line) => /^\d+: ([^:@]+)[@:]/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  const orphaned = (name: string) => {
    const owner = clusterIdOf(name);
    return owner !== undefined && !isAlive(owner.ownerPid);
  };
  const removed: string[] = [];
  for (const link of links.filter(orphaned)) {
    await run('ip', ['link', 'del', link]).then(() => removed.push(link), () => undefined);
  }
  for (const netns of namespaces.filter(orphaned)) {
    const pids = (await run('ip', ['netns', 'pids', netns]).catch(() => '')).split('\n').filter(Boolean).map(Number);
    for (const pid of pids) signal(pid, 'SIGKILL');
    await run('ip', ['netns', 'del', netns]).then(() => removed.push(netns), () => undefined);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
