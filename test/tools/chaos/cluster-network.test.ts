// The mini-cluster's network is made of namespaces, links and rules that outlive the process that made them: every
// one must be gone after a cluster is destroyed, and what a killed run left behind must be found and removed without
// touching a live cluster.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { removeLeftovers } from '../../../chaos/environments/cluster/leftovers.js';
import { newClusterNames } from '../../../chaos/environments/cluster/names.js';
import { ClusterNetwork } from '../../../chaos/environments/cluster/network.js';
import { clusterSkip, connectFrom, hostNames } from './cluster-fixture.js';

const skip = await clusterSkip(t);

const iptablesSave = (netns?: string) =>
  new Promise<string>((resolve, reject) => {
    const [command, args] = netns ? ['ip', ['netns', 'exec', netns, 'iptables-save']] : ['iptables-save', []];
    execFile(command as string, args as string[], (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });

const ownedBy = (id: string) => (name: string) => name.startsWith(`bw-${id}`);

t.test('a cluster network is made of namespaces and one host link, and destroy removes every one', { skip }, async (t) => {
  const network = new ClusterNetwork(newClusterNames());
  t.teardown(() => network.destroy());
  await network.create();
  const client = await network.addPod('client');
  const replica = await network.addPod('b-0');
  const { id } = network.names;

  const made = await hostNames();
  t.same(made.namespaces.filter(ownedBy(id)).sort(), [`bw-${id}-b-0`, `bw-${id}-client`, `bw-${id}-net`], 'one namespace per pod plus the network');
  t.same(made.links.filter(ownedBy(id)), [`bw-${id}`], 'the host gets exactly one link');
  const claim = `/run/breakwater-chaos/${id}.json`;
  t.ok(existsSync(claim), 'the cluster is recorded as ours while it exists');
  t.match(client.ip, /^198\.18\.\d+\.10$/, 'pods get addresses from the reserved benchmarking range');
  t.equal(replica.ip, client.ip.replace(/\.10$/, '.11'));
  t.match(await iptablesSave(replica.netns), /-A INPUT -j BW-FAULTS/, 'each pod has its fault chain in its own namespace');
  t.equal(await connectFrom(client.netns, `${replica.ip}:8080`, 2000), 'refused', 'pods reach each other over the bridge (nothing listens: RST)');
  t.equal(await connectFrom(undefined, `${replica.ip}:8080`, 2000), 'refused', 'and the host reaches the pods');

  await network.destroy();
  const left = await hostNames();
  t.same(left.namespaces.filter(ownedBy(id)), [], 'no namespace left');
  t.same(left.links.filter(ownedBy(id)), [], 'no link left');
  t.notMatch(await iptablesSave(), /BW-/, 'no rule of ours in the host namespace');
  const routes = await new Promise<string>((resolve) => execFile('ip', ['route'], (_, stdout) => resolve(stdout)));
  t.notMatch(routes, new RegExp(`bw-${id}`), 'no route left');
  t.notOk(existsSync(claim), 'and its record is gone');
});

t.test("a killed run's namespaces and link are removed as leftovers; a live cluster's are not", { skip }, async (t) => {
  const live = new ClusterNetwork(newClusterNames());
  t.teardown(() => live.destroy());
  await live.create();
  await live.addPod('client');

  // A runner that dies by SIGKILL cannot clean up: its namespaces and host link stay behind.
  const networkModule = fileURLToPath(new URL('../../../dist/chaos/environments/cluster/network.js', import.meta.url));
  const namesModule = fileURLToPath(new URL('../../../dist/chaos/environments/cluster/names.js', import.meta.url));
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    const { ClusterNetwork } = await import(${JSON.stringify(networkModule)});
    const { newClusterNames } = await import(${JSON.stringify(namesModule)});
    const network = new ClusterNetwork(newClusterNames());
    await network.create();
    await network.addPod('client');
    process.stdout.write(network.names.id + '\\n');
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const deadId = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the runner stand-in exited (${code}) before making its cluster`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const before = await hostNames();
  t.ok(before.namespaces.some(ownedBy(deadId)) && before.links.some(ownedBy(deadId)), 'the killed run left its network behind');

  const removed = await removeLeftovers();
  t.same(removed.filter(ownedBy(deadId)).sort(), [`bw-${deadId}`, `bw-${deadId}-client`, `bw-${deadId}-net`], 'all of it removed');
  t.same(removed.filter(ownedBy(live.names.id)), [], "the live cluster's names untouched");
  const after = await hostNames();
  t.same([...after.namespaces, ...after.links].filter(ownedBy(deadId)), [], 'nothing of the killed run left');
  t.equal(after.namespaces.filter(ownedBy(live.names.id)).length, 2, 'the live cluster still has its namespaces');
});
