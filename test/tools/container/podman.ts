/**
 * podman for the container tests, with the flags these machines need (runc, cgroupfs, explicit ulimits), and the gate
 * that decides whether the tests can run: they use the image `npm run image` built (.ci/run builds it first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../chart/helm.js';

const GLOBAL_FLAGS = ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
/** runc cannot inherit these limits here ("Operation not permitted"): every container states them. */
export const LIMIT_FLAGS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
/** The tag `npm run image` gives the image, and the chart's default image. */
export const IMAGE = `breakwater:${version}`;

export interface PodmanResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function podman(args: string[], timeoutMs = 60_000): PodmanResult {
  const result = spawnSync('podman', [...GLOBAL_FLAGS, ...args], { encoding: 'utf8', timeout: timeoutMs });
  if (result.error) throw new Error(`podman ${args.join(' ')}: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** podman that must succeed: its stdout, trimmed. */
export function podmanOk(args: string[], timeoutMs = 60_000): string {
  const result = podman(args, timeoutMs);
  if (result.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** podman without blocking the event loop (for commands that take a while, like a draining `podman stop`). */
export function podmanAsync(args: string[], timeoutMs = 60_000): Promise<PodmanResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', [...GLOBAL_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Why the container tests cannot run here, or undefined when podman and the image are present. */
export function missingPrerequisite(): string | undefined {
  if (spawnSync('podman', ['--version'], { stdio: 'ignore' }).error) return 'podman is not installed (Debian: apt-get install podman runc)';
  // Rootful podman: the tests make pod networks and enter pods' network namespaces with nsenter.
  if (process.getuid?.() !== 0) return 'they need root (rootful podman, nsenter into pod network namespaces)';
  if (podman(['image', 'exists', IMAGE]).status !== 0) return `no image ${IMAGE}: build it with \`npm run image\``;
  return undefined;
}

interface Gate {
  fail(message: string): void;
  plan(count: number, comment: string): void;
}

/**
 * True when the tests can run. Otherwise the file is skipped with the reason, except in CI (CI set), where a missing
 * podman or image is a failure: CI installs podman and builds the image, so their absence is a broken CI.
 */
export function containerTestsCanRun(t: Gate): boolean {
  const missing = missingPrerequisite();
  if (!missing) return true;
  if (process.env.CI) t.fail(`container tests cannot run in CI: ${missing}`);
  else t.plan(0, `container tests skipped: ${missing}`);
  return false;
}

/** A name for this test run's containers, pods and networks, unique on the machine and easy to trace back. */
export function runName(what: string): string {
  return `bw-test-${what}-${process.pid}`;
}

/** Containers and networks of this test run (named by runName) that still exist. */
export function leftovers(): string[] {
  const mine = new RegExp(`^bw-test-.*-${process.pid}(-|$)`);
  const containers = podmanOk(['ps', '--all', '--format', '{{.Names}}']).split('\n');
  const networks = podmanOk(['network', 'ls', '--format', '{{.Name}}']).split('\n');
  return [...containers, ...networks].filter((name) => mine.test(name));
}
