// Network faults as iptables rules in a pod's own BW-FAULTS chain (hooked into INPUT and OUTPUT when the pod was
// made). Each fault is a set of rules added together and deleted together.
import { runIn } from './commands.js';

export interface FirewallFault {
  netns: string;
  rules: string[][];
}

/** A failed node: the pod's address silently drops everything, so SYNs go unanswered and established flows hang. */
export function nodeFailure(netns: string): FirewallFault {
  return { netns, rules: [['-i', 'eth0', '-j', 'DROP'], ['-o', 'eth0', '-j', 'DROP']] };
}

/** A share of the pod's packets lost in both directions: TCP retransmits them, late. */
export function packetLoss(netns: string, rate: number): FirewallFault {
  const drop = ['-m', 'statistic', '--mode', 'random', '--probability', rate.toFixed(4), '-j', 'DROP'];
  return { netns, rules: [['-i', 'eth0', ...drop], ['-o', 'eth0', ...drop]] };
}

/** The client pod cannot reach one address (both directions dropped): a partition between two pods. */
export function partition(clientNetns: string, address: string): FirewallFault {
  const [ip, port] = address.split(':');
  return {
    netns: clientNetns,
    rules: [
      ['-o', 'eth0', '-p', 'tcp', '-d', `${ip}/32`, '--dport', port!, '-j', 'DROP'],
      ['-i', 'eth0', '-p', 'tcp', '-s', `${ip}/32`, '--sport', port!, '-j', 'DROP'],
    ],
  };
}

export async function addFault(fault: FirewallFault): Promise<void> {
  for (const rule of fault.rules) await runIn(fault.netns, 'iptables', ['-A', 'BW-FAULTS', ...rule]);
}

export async function removeFault(fault: FirewallFault): Promise<void> {
  for (const rule of fault.rules) await runIn(fault.netns, 'iptables', ['-D', 'BW-FAULTS', ...rule]);
}
