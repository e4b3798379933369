import { parseDuration } from '../proxy/config/duration.js';

/** Fault settings of the backend; the shape GET /admin/faults returns and PUT /admin/faults patches. */
export interface Faults {
  /** Share of /api/data requests answered with failureStatus, 0..1. */
  failureRate: number;
  failureStatus: number;
  /** Share of /api/data requests delayed by slowDelay before answering, 0..1. */
  slowRate: number;
  /** Milliseconds. */
  slowDelay: number;
  /** Share of /api/transient requests answered 429, 0..1. */
  transientRate: number;
  /** Whole seconds sent in Retry-After, at least 1. */
  retryAfter: number;
  /** Accept /api/* requests but never answer them. */
  hang: boolean;
  /** The next N /api/* requests fail with failureStatus regardless of rates. */
  failNext: number;
  /** Seed of the random source; setting it restarts the sequence. */
  seed: number;
}

/** What PUT /admin/faults accepts: any subset of Faults, with durations also as text ("2s"). */
export type FaultsPatch = Partial<Omit<Faults, 'slowDelay' | 'retryAfter'> & { slowDelay: number | string; retryAfter: number | string }>;

/** A bad setting; `field` is the flag or JSON field as the user wrote it. */
export class InvalidSettingError extends Error {
  constructor(
    readonly field: string,
    problem: string,
    value: unknown,
  ) {
    super(`${field} ${problem}, got ${JSON.stringify(value)}`);
  }
}

export function checkRate(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new InvalidSettingError(field, 'must be a number from 0 to 1', value);
  }
  return value;
}

export function checkErrorStatus(value: unknown, field: string): number {
  if (!Number.isInteger(value) || (value as number) < 400 || (value as number) > 599) {
    throw new InvalidSettingError(field, 'must be an HTTP error status from 400 to 599', value);
  }
  return value as number;
}

export function checkCount(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidSettingError(field, 'must be a whole number >= 0', value);
  }
  return value as number;
}

export function checkSeed(value: unknown, field: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0xffffffff) {
    throw new InvalidSettingError(field, 'must be a whole number from 0 to 4294967295', value);
  }
  return value as number;
}

/** A duration as text ("250ms", "3s", "1m") or a number of milliseconds. */
export function checkDelayMs(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? parseDuration(value) : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    const expected = typeof value === 'string' ? 'with a unit' : 'as text with a unit or a number of milliseconds';
    throw new InvalidSettingError(field, `must be a duration ${expected}, like "250ms", "3s", "1m"`, value);
  }
  return Math.round(ms);
}

/** A duration as text or a number of seconds; Retry-After carries whole seconds, so round up, at least 1. */
export function checkRetryAfterSeconds(value: unknown, field: string): number {
  const seconds = typeof value === 'string' ? (parseDuration(value) ?? NaN) / 1000 : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    const expected = typeof value === 'string' ? 'with a unit' : 'as text with a unit or a number of seconds';
    throw new InvalidSettingError(field, `must be a duration ${expected}, like "1s"`, value);
  }
  return Math.max(1, Math.ceil(seconds));
}

function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidSettingError(field, 'must be true or false', value);
  return value;
}

const FIELD_CHECKS: { [K in keyof Faults]: (value: unknown, field: string) => Faults[K] } = {
  failureRate: checkRate,
  failureStatus: checkErrorStatus,
  slowRate: checkRate,
  slowDelay: checkDelayMs,
  transientRate: checkRate,
  retryAfter: checkRetryAfterSeconds,
  hang: checkBoolean,
  failNext: checkCount,
  seed: checkSeed,
};

/** Validates a PUT /admin/faults body: a partial Faults object with no unknown fields. */
export function parseFaultsPatch(body: unknown): Partial<Faults> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidSettingError('body', 'must be a JSON object', body);
  }
  const patch: Partial<Record<keyof Faults, unknown>> = {};
  for (const [field, value] of Object.entries(body)) {
    if (!Object.hasOwn(FIELD_CHECKS, field)) {
      throw new InvalidSettingError(field, `is not a fault setting (known: ${Object.keys(FIELD_CHECKS).join(', ')})`, value);
    }
    const key = field as keyof Faults;
    patch[key] = FIELD_CHECKS[key](value, field);
  }
  return patch as Partial<Faults>;
}
