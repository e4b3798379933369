/** Policy files that use YAML aliases: a legitimate one that shares a block among many routes, and an alias bomb. */

/** A policy whose routes all share the first route's retry block through one anchor: `routes - 1` aliases. */
export function sharedRetryPolicy(routes: number): string {
  const lines = ['listeners:', '  - name: egress', '    address: 127.0.0.1:0', '    routes:'];
  lines.push('      - { name: r0, upstream: u, retry: &retry { attempts: 3, on: [503, reset], backoff: { base: 10ms } } }');
  for (let i = 1; i < routes; i++) lines.push(`      - { name: r${i}, upstream: u, retry: *retry }`);
  lines.push('upstreams: [{ name: u, endpoints: ["127.0.0.1:1"] }]', '');
  return lines.join('\n');
}

/** Nine levels of nine aliases each (the "billion laughs"): 9^9 strings from a file of a few hundred bytes. */
export function aliasBomb(): string {
  const names = 'abcdefghi';
  const lines = ['listeners:', '  - name: egress', '    address: 127.0.0.1:0', '    routes: []', 'upstreams:', '  - name: u', '    endpoints: ["127.0.0.1:1"]'];
  lines.push(`    dns: { name: &a lol, port: 1 }`);
  lines.push(`    x0: &b [${Array(9).fill('*a').join(', ')}]`);
  for (let level = 2; level < names.length; level++) {
    lines.push(`    x${level - 1}: &${names[level]} [${Array(9).fill(`*${names[level - 1]}`).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}
