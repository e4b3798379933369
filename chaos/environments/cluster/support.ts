// Whether a mini-cluster can be made here: Linux, root, ip and iptables, and a namespace that really works (a
// container without CAP_SYS_ADMIN/NET_ADMIN fails only when trying). Undefined means yes; otherwise the reason.
import { dropClaim, writeClaim } from './claims.js';
import { run, runIn } from './commands.js';
import { newClusterNames } from './names.js';

export async function clusterUnavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces and iptables need root';
  const names = newClusterNames();
  const probe = names.podNs('probe');
  try {
    await writeClaim(names.id); // a runner killed right now leaves the probe namespace to the next run's cleanup
    await run('ip', ['netns', 'add', probe]);
  } catch (error) {
    await dropClaim(names.id);
    return `cannot create a network namespace: ${firstLine(error)}`;
  }
  try {
    await runIn(probe, 'iptables', ['-L', '-n']);
    return undefined;
  } catch (error) {
    return `iptables does not work in a network namespace (install the iptables package): ${firstLine(error)}`;
  } finally {
    await run('ip', ['netns', 'del', probe]).catch(() => undefined);
    await dropClaim(names.id);
  }
}

function firstLine(error: unknown): string {
  return (error as Error).message.split('\n')[0]!;
}
