/**
 * The Prometheus text exposition of a registry, rendered a slice at a time. prom-client's registry.metrics() renders
 * every series in one turn of the event loop, and with thousands of routes (tens of thousands of series) that turn held
 * every proxied request for as long. Here rendering yields to the event loop (setImmediate) once it has run for
 * SLICE_MS or rendered SLICE_CHARS, so a request waits for at most one slice; the text is kept as Buffers, each slice
 * encoded in its own turn.
 *
 * The text is prom-client's, less the blank line between families: same HELP and TYPE lines, label order, escaping and
 * number format. A metric that writes its own sample lines (HotCounter, HotHistogram, HotGauge, ScrapedGauge) is read
 * line by line, so a family of many series is cut into slices too; any other metric is read through get(), which lists
 * its series in one call: those are the families with few series.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Registry } from 'prom-client';

/** How long rendering may hold the event loop before it lets requests in. */
const SLICE_MS = 2;
/** Lines rendered between two looks at the clock. */
const LINES_PER_CLOCK_READ = 16;
/** Text is encoded to a Buffer at the end of each slice, in the same turn: this bounds that work too. */
const SLICE_CHARS = 128 * 1024;

/** A metric that writes its own sample lines (each ending in a newline), as prom-client's get() would list them. */
export interface SampleLines {
  sampleLines(): Iterable<string>;
}

/** A rendered exposition: the text in pieces, and its length in bytes. */
export interface Exposition {
  readonly chunks: readonly Buffer[];
  readonly bytes: number;
}

type LabelSet = Record<string, string | number | undefined>;

interface FamilyValue {
  labels?: LabelSet;
  value: number;
  metricName?: string;
}

function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Most label values need no escaping; testing for that first saves two replacements per label per scrape. */
const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabelValue(value: string): string {
  return NEEDS_ESCAPE.test(value) ? escapeText(value).replace(/"/g, '\\"') : value;
}

/** `{name="value",...}` as prom-client writes it (label values escaped), or '' for no labels. */
export function formatLabels(labels: LabelSet): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    parts.push(`${name}="${typeof value === 'string' ? escapeLabelValue(value) : value}"`);
  }
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** A sample value as prom-client writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

interface Family {
  name: string;
  help: string;
  type: string;
  values?: FamilyValue[];
}

/** What a registry holds (its typings show only name, help and type): prom-client's metrics, and ours. */
type RegisteredMetric = Family & Partial<SampleLines> & { get(): Promise<Family> };

/** A family's lines: HELP and TYPE, then its samples. Only get() (a prom-client metric's) is read at once. */
async function familyLines(metric: RegisteredMetric): Promise<Iterable<string>> {
  if (metric.sampleLines) return withHeader(metric.name, metric.help, metric.type, metric.sampleLines());
  const family = await metric.get();
  const name = escapeText(family.name);
  return withHeader(family.name, family.help, family.type, (function* () {
    for (const value of family.values ?? []) yield `${value.metricName ?? name}${formatLabels(value.labels ?? {})} ${formatValue(value.value)}\n`;
  })());
}

function* withHeader(name: string, help: string, type: string, samples: Iterable<string>): Generator<string> {
  yield `# HELP ${escapeText(name)} ${escapeText(help)}\n# TYPE ${escapeText(name)} ${type}\n`;
  yield* samples;
}

/** Renders every metric of `registry`, in registration order, letting the event loop run between slices. */
export async function renderExposition(registry: Registry): Promise<Exposition> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let text = '';
  const encode = () => {
    const chunk = Buffer.from(text);
    chunks.push(chunk);
    bytes += chunk.length;
    text = '';
  };
  let sliceStart = performance.now();
  let lines = 0;
  for (const metric of registry.getMetricsAsArray() as unknown as RegisteredMetric[]) {
    for (const line of await familyLines(metric)) {
      text += line;
      if (++lines % LINES_PER_CLOCK_READ === 0 && (text.length >= SLICE_CHARS || performance.now() - sliceStart >= SLICE_MS)) {
        encode();
        await nextTurn();
        sliceStart = performance.now();
      }
    }
  }
  if (text !== '') encode();
  return { chunks, bytes };
}
