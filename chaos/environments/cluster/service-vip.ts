// A ClusterIP Service as kube-proxy's iptables mode makes one, inside the client pod's namespace: the VIP is DNATed
// per new connection to one endpoint picked at random (`statistic --mode random`, probabilities 1/n, 1/(n-1), ...);
// conntrack keeps established connections on their endpoint even after it is removed; with no endpoints, connects
// are refused. Each update replaces the Service's chains in one iptables-restore transaction.
import { run, runIn } from './commands.js';

/** The Service port: clients call http://<VIP>/ as they would a ClusterIP Service on port 80. */
const SERVICE_PORT = 80;

export class ServiceVip {
  private readonly natChain: string;
  private readonly rejectChain: string;

  /** `index` tells the Services of one client pod apart (their chains and VIPs). */
  constructor(
    private readonly netns: string,
    readonly vip: string,
    index: number,
  ) {
    this.natChain = `BW-SVC-${index}`;
    this.rejectChain = `BW-SVC-${index}-NOEP`;
  }

  /**
   * Creates the (empty: refusing) Service. `vipCidr` is routed to the pod's link first: without a route the kernel
   * would pick the default route's source address, and the endpoints' replies would have no way back.
   */
  async create(vipCidr: string): Promise<void> {
    await run('ip', ['-n', this.netns, 'route', 'replace', vipCidr, 'dev', 'eth0']);
    const match = ['-d', `${this.vip}/32`, '-p', 'tcp', '--dport', String(SERVICE_PORT)];
    await runIn(this.netns, 'iptables', ['-t', 'nat', '-N', this.natChain]);
    await runIn(this.netns, 'iptables', ['-t', 'nat', '-A', 'OUTPUT', ...match, '-j', this.natChain]);
    await runIn(this.netns, 'iptables', ['-N', this.rejectChain]);
    await runIn(this.netns, 'iptables', ['-A', 'OUTPUT', ...match, '-j', this.rejectChain]);
    await this.setEndpoints([]);
  }

  /** Replaces the endpoint set ("ip:port" each) at once. */
  async setEndpoints(endpoints: string[]): Promise<void> {
    const dnat = endpoints.map((endpoint, i) => {
      const remaining = endpoints.length - i;
      const pick = remaining > 1 ? `-m statistic --mode random --probability ${(1 / remaining).toFixed(10)} ` : '';
      return `-A ${this.natChain} -p tcp ${pick}-j DNAT --to-destination ${endpoint}`;
    });
    const reject = endpoints.length === 0 ? [`-A ${this.rejectChain} -p tcp -j REJECT --reject-with tcp-reset`] : [];
    const rules = [
      '*nat', `:${this.natChain} - [0:0]`, ...dnat, 'COMMIT',
      '*filter', `:${this.rejectChain} - [0:0]`, ...reject, 'COMMIT', '',
    ].join('\n');
    await runIn(this.netns, 'iptables-restore', ['--noflush'], rules);
  }
}
