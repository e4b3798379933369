import { readFile } from 'node:fs/promises';
import type { AppPolicy } from './types.js';

/**
 * The same numbers as the sidecar's default route policy (timeout per try 800ms, 4 attempts, 50ms..1s full jitter;
 * breaker 50% over 10 s with volume 10, 5 consecutive failures, reset 5 s): the seed labs' pybreaker fail_max 5 and
 * tenacity 4 attempts map onto these, so the `app` and `proxy` arms differ only in where the logic lives.
 */
export const DEFAULT_APP_POLICY: AppPolicy = {
  timeoutMs: 800,
  retry: { attempts: 4, baseMs: 50, maxMs: 1000, jitter: 'full' },
  breaker: { errorThresholdPercentage: 50, volumeThreshold: 10, windowMs: 10_000, resetTimeoutMs: 5_000, consecutiveFailures: 5 },
};

const JITTERS = ['full', 'equal', 'none'] as const;

/** Validates an AppPolicy read from `source`; errors name the source and the offending field. */
export function parseAppPolicy(value: unknown, source: string): AppPolicy {
  const root = asObject(value, source, '$');
  const retry = asObject(root.retry, source, '$.retry');
  const breaker = asObject(root.breaker, source, '$.breaker');
  const jitter = retry.jitter;
  if (!JITTERS.includes(jitter as (typeof JITTERS)[number])) {
    throw new Error(`${source}: $.retry.jitter must be one of ${JITTERS.join(', ')}, got ${JSON.stringify(jitter)}`);
  }
  const policy: AppPolicy = {
    timeoutMs: positive(root.timeoutMs, source, '$.timeoutMs'),
    retry: {
      attempts: positiveInteger(retry.attempts, source, '$.retry.attempts'),
      baseMs: nonNegative(retry.baseMs, source, '$.retry.baseMs'),
      maxMs: nonNegative(retry.maxMs, source, '$.retry.maxMs'),
      jitter: jitter as AppPolicy['retry']['jitter'],
    },
    breaker: {
      errorThresholdPercentage: percentage(breaker.errorThresholdPercentage, source, '$.breaker.errorThresholdPercentage'),
      volumeThreshold: nonNegative(breaker.volumeThreshold, source, '$.breaker.volumeThreshold'),
      windowMs: positive(breaker.windowMs, source, '$.breaker.windowMs'),
      resetTimeoutMs: positive(breaker.resetTimeoutMs, source, '$.breaker.resetTimeoutMs'),
    },
  };
  if (breaker.consecutiveFailures !== undefined) {
    policy.breaker.consecutiveFailures = positiveInteger(breaker.consecutiveFailures, source, '$.breaker.consecutiveFailures');
  }
  return policy;
}

export async function readAppPolicy(file: string): Promise<AppPolicy> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read the app policy as JSON: ${(err as Error).message}`);
  }
  return parseAppPolicy(parsed, file);
}

function asObject(value: unknown, source: string, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: ${path} must be an object`);
  return value as Record<string, unknown>;
}

function nonNegative(value: unknown, source: string, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${source}: ${path} must be a number >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positive(value: unknown, source: string, path: string): number {
  if (nonNegative(value, source, path) === 0) throw new Error(`${source}: ${path} must be > 0, got 0`);
  return value as number;
}

function positiveInteger(value: unknown, source: string, path: string): number {
  if (!Number.isInteger(positive(value, source, path))) throw new Error(`${source}: ${path} must be a whole number, got ${value}`);
  return value as number;
}

function percentage(value: unknown, source: string, path: string): number {
  if (nonNegative(value, source, path) > 100) throw new Error(`${source}: ${path} must be at most 100, got ${value}`);
  return value as number;
}
