import { readFileSync } from 'node:fs';
import t from 'tap';
import { classifyError, countedStatus, OUTCOMES, outcomeOfResponse } from '../../../proxy/core/outcome.js';
import { outcomeTableMarkdown, TABLE_END, TABLE_START } from '../../../build/outcome-table.js';

t.test('docs/outcomes.md states the outcome table the code uses (npm run generate rewrites it)', async (t) => {
  const doc = readFileSync(new URL('../../../docs/outcomes.md', import.meta.url), 'utf8');
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  t.ok(start !== -1 && end > start, 'docs/outcomes.md has the outcome-table markers');
  t.equal(doc.slice(start + TABLE_START.length, end).trim(), outcomeTableMarkdown(), 'docs/outcomes.md outcome table is stale: run npm run generate');
});

t.test('a client leaving is neutral everywhere; deterministic failures are never retried', async (t) => {
  t.same(OUTCOMES['client-gone'], { ...OUTCOMES['client-gone'], retriedOn: 'never', breaker: 'neutral', endpointFailure: null });
  for (const kind of ['protocol-error', 'tls-error', 'deadline'] as const) t.equal(OUTCOMES[kind].retriedOn, 'never', kind);
  t.equal(OUTCOMES['connect-failure'].retriedOn, 'connect-failure');
});

t.test('undici and socket errors map to what happened on the wire', async (t) => {
  const cases: Array<[string, string]> = [
    ['ECONNREFUSED', 'connect-failure'],
    ['ENOTFOUND', 'connect-failure'],
    ['UND_ERR_CONNECT_TIMEOUT', 'connect-failure'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['ECONNRESET', 'reset'],
    ['UND_ERR_SOCKET', 'reset'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'reset'],
    ['UND_ERR_HEADERS_OVERFLOW', 'protocol-error'],
    ['HPE_INVALID_CONSTANT', 'protocol-error'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls-error'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls-error'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls-error'],
    ['EMFILE', 'local-resources'],
  ];
  for (const [code, kind] of cases) t.equal(classifyError({ code }), kind, code);
});

t.test('a gRPC response counts as the HTTP equivalent of its status; any other response as its own status', async (t) => {
  t.equal(countedStatus(200, undefined), 200);
  t.equal(countedStatus(503, undefined), 503);
  t.equal(countedStatus(200, 14), 503, 'unavailable');
  t.equal(countedStatus(200, 4), 504, 'deadline-exceeded');
  t.equal(countedStatus(200, 8), 429, 'resource-exhausted');
  t.equal(countedStatus(200, 0), 200, 'ok');
  t.equal(countedStatus(200, 99), 500, 'a code gRPC does not define counts as unknown');
  t.equal(outcomeOfResponse(200, undefined), 'ok');
  t.equal(outcomeOfResponse(502, undefined), 'upstream-error');
  for (const code of [2, 4, 12, 13, 14, 15]) t.equal(outcomeOfResponse(200, code), 'upstream-error', `gRPC ${code}`);
  for (const code of [0, 1, 3, 5, 7, 8, 16]) t.equal(outcomeOfResponse(200, code), 'ok', `gRPC ${code}: the caller's or no failure`);
});
