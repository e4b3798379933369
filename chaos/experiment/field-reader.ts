// Reads untyped YAML into typed values, failing with the file and the exact path of what is wrong
// (`chaos/experiments/x.yaml: timeline[2].action: unknown action "kil"`).
import { DURATION_HINT, parseDuration } from '../../proxy/config/duration.js';

export class ExperimentError extends Error {
  constructor(file: string, path: string, problem: string) {
    super(`${file}: ${path ? `${path}: ` : ''}${problem}`);
    this.name = 'ExperimentError';
  }
}

export class FieldReader {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly value: unknown,
  ) {}

  fail(problem: string): never {
    throw new ExperimentError(this.file, this.path, problem);
  }

  private child(key: string | number, value: unknown): FieldReader {
    const path = typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    return new FieldReader(this.file, path, value);
  }

  isPresent(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  object(allowedKeys: readonly string[]): Map<string, FieldReader> {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) {
      this.fail(`expected a mapping, got ${describe(this.value)}`);
    }
    const fields = new Map<string, FieldReader>();
    for (const [key, value] of Object.entries(this.value)) {
      if (!allowedKeys.includes(key)) {
        this.child(key, value).fail(`unknown field (expected one of: ${allowedKeys.join(', ')})`);
      }
      fields.set(key, this.child(key, value));
    }
    for (const key of allowedKeys) if (!fields.has(key)) fields.set(key, this.child(key, undefined));
    return fields;
  }

  /** The raw mapping, for policy sections passed through to Breakwater (it validates them itself). */
  record(): Record<string, unknown> {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) {
      this.fail(`expected a mapping, got ${describe(this.value)}`);
    }
    return this.value as Record<string, unknown>;
  }

  list(): FieldReader[] {
    if (!Array.isArray(this.value)) this.fail(`expected a list, got ${describe(this.value)}`);
    return this.value.map((item, index) => this.child(index, item));
  }

  string(): string {
    if (typeof this.value !== 'string' || this.value.length === 0) this.fail(`expected text, got ${describe(this.value)}`);
    return this.value;
  }

  oneOf<T extends string>(allowed: readonly T[], what = 'value'): T {
    const text = this.string();
    if (!(allowed as readonly string[]).includes(text)) {
      this.fail(`unknown ${what} "${text}" (expected one of: ${allowed.join(', ')})`);
    }
    return text as T;
  }

  number(min: number, max = Number.POSITIVE_INFINITY): number {
    if (typeof this.value !== 'number' || !Number.isFinite(this.value)) {
      this.fail(`expected a number, got ${describe(this.value)}`);
    }
    if (this.value < min || this.value > max) this.fail(`${this.value} is out of range [${min}, ${max}]`);
    return this.value;
  }

  integer(min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.number(min, max);
    if (!Number.isInteger(value)) this.fail(`expected a whole number, got ${value}`);
    return value;
  }

  boolean(): boolean {
    if (typeof this.value !== 'boolean') this.fail(`expected true or false, got ${describe(this.value)}`);
    return this.value;
  }

  /** A duration in the policy-file spelling ("250ms", "3s"), returned in milliseconds. */
  durationMs(): number {
    const ms = parseDuration(this.string());
    if (ms === undefined) this.fail(`invalid duration "${String(this.value)}": ${DURATION_HINT}`);
    return ms;
  }

  /** A duration kept in its text form, after checking it parses. */
  durationText(): string {
    this.durationMs();
    return this.value as string;
  }
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
