/**
 * Renders the outcome table (proxy/core/outcome.ts) as Markdown: `npm run generate` writes it between the outcome-table markers
 * of docs/outcomes.md, and test/proxy/core/outcome.test.ts fails while that copy is stale.
 */
import { OUTCOMES, type OutcomeRule } from '../proxy/core/outcome.js';
import { replaceBetween } from './markers.js';

export const TABLE_START = '<!-- outcome-table:start (generated from proxy/core/outcome.ts by npm run generate) -->';
export const TABLE_END = '<!-- outcome-table:end -->';

const RETRIED: Record<OutcomeRule['retriedOn'], string> = {
  'connect-failure': 'when `retry.on` lists `connect-failure` (any method)',
  reset: 'when `retry.on` lists `reset` (idempotent requests)',
  timeout: 'when `retry.on` lists `timeout` (idempotent requests)',
  status: 'when `retry.on` lists its status (idempotent requests) or names its gRPC status (any method)',
  never: 'never',
};

const BREAKER: Record<OutcomeRule['breaker'], string> = {
  status: 'by `failOn` (`5xx`, `4xx`, the status or the gRPC status); else success',
  'connect-failure': 'failure with `failOn: [connect-failure]`',
  reset: 'failure with `failOn: [reset]` or `[5xx]`',
  timeout: 'failure with `failOn: [timeout]`, else neutral',
  neutral: 'neutral (not counted)',
};

function endpointHealth(rule: OutcomeRule): string {
  return rule.endpointFailure === null ? 'not counted' : rule.endpointFailure ? 'failure' : 'success';
}

export function outcomeTableMarkdown(): string {
  const rows = Object.entries(OUTCOMES).map(
    ([outcome, rule]) =>
      `| \`${outcome}\` | ${rule.meaning} | ${RETRIED[rule.retriedOn]} | ${BREAKER[rule.breaker]} | ${endpointHealth(rule)} | ${rule.client === 'upstream' ? "the upstream's response" : rule.client} |`,
  );
  return [
    '| outcome | what happened | retried | circuit breaker | outlier detection | client gets |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The document's text with its outcome table replaced by the current one. */
export function withOutcomeTable(readme: string): string {
  return replaceBetween(readme, TABLE_START, TABLE_END, outcomeTableMarkdown());
}
