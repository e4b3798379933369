import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartDir, RELEASE, render, repoRoot, type RenderOptions } from './helm.js';
import { find } from './manifests.js';

const cli = join(repoRoot, 'dist', 'proxy', 'cli.js');
const workDir = mkdtempSync(join(tmpdir(), 'breakwater-chart-policy-'));
t.teardown(() => rmSync(workDir, { recursive: true, force: true }));

function validate(policyText: string, fileName: string): { status: number | null; output: string } {
  const file = join(workDir, fileName);
  writeFileSync(file, policyText);
  const result = spawnSync(process.execPath, [cli, 'validate', file], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const withSidecar: Array<{ name: string; opts: RenderOptions }> = [
  { name: 'defaults', opts: {} },
  ...readdirSync(join(chartDir, 'ci'))
    .filter((file) => file.endsWith('.yaml') && file !== 'sidecar-off-values.yaml')
    .map((file) => ({ name: `ci/${file}`, opts: { valuesFiles: [join(chartDir, 'ci', file)] } })),
];

const policyOf = (opts: RenderOptions): string =>
  (find(render(opts), 'ConfigMap', `${RELEASE}-policy`).data as Record<string, string>)['breakwater.yaml']!;

// Values sets that leave the policy alone render the same text: validate each distinct policy once.
const distinctPolicies = new Map<string, string>();
for (const { name, opts } of withSidecar) {
  const policy = policyOf(opts);
  if (!distinctPolicies.has(policy)) distinctPolicies.set(policy, name);
}

t.ok(distinctPolicies.size >= 2, `distinct policies rendered: ${[...distinctPolicies.values()].join(', ')}`);
for (const [policy, name] of distinctPolicies) {
  t.test(`${name}: the rendered sidecar policy passes breakwater validate`, async (t) => {
    const { status, output } = validate(policy, `${name.replace(/\W+/g, '-')}.yaml`);
    t.equal(status, 0, output);
  });
}

t.test('the validator rejects a broken policy, so the checks above can fail', async (t) => {
  const { status, output } = validate(policyOf({}).replace('upstream: backend', 'upstream: missing'), 'broken.yaml');
  t.equal(status, 1, output);
  t.match(output, /missing/);
});
