// Removes what a mini-cluster run that died without cleaning up (SIGKILL, a crash) left behind: for each claim whose
// process is gone, its host link and the namespaces named bw-<id>-..., then the claim. Clusters of live processes are
// never touched. The processes still in a leftover namespace are ended first, or the namespace would outlive its name.
import { signal } from '../../runner/processes.js';
import { dropClaim, listClaims } from './claims.js';
import { run } from './commands.js';

export async function removeLeftovers(): Promise<string[]> {
  const dead = (await listClaims()).filter((claim) => !isAlive(claim.pid));
  if (dead.length === 0) return [];
  const namespaces = (await run('ip', ['netns', 'list'])).split('\n').map((line) => line.split(' ')[0]!).filter(Boolean);
  const removed: string[] = [];
  for (const { id } of dead) {
    await run('ip', ['link', 'del', `bw-${id}`]).then(() => removed.push(`bw-${id}`), () => undefined);
    for (const netns of namespaces.filter((name) => name.startsWith(`bw-${id}-`))) {
      const pids = (await run('ip', ['netns', 'pids', netns]).catch(() => '')).split('\n').filter(Boolean).map(Number);
      for (const pid of pids) signal(pid, 'SIGKILL');
      await run('ip', ['netns', 'del', netns]).then(() => removed.push(netns), () => undefined);
    }
    await dropClaim(id);
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
