import { readFileSync } from 'node:fs';
import t from 'tap';
import { classifyError, OUTCOMES } from '../../../proxy/core/outcome.js';
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
