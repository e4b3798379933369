import t from 'tap';
import { parseDuration } from '../../../proxy/config/duration.js';
import { FORMAT_PATTERNS } from '../../../proxy/config/formats.js';

t.test('parses the units the policy file uses', async (t) => {
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('3s'), 3000);
  t.equal(parseDuration('1m'), 60_000);
  t.equal(parseDuration('1.5s'), 1500);
  t.equal(parseDuration('3'), undefined);
  t.equal(parseDuration('fast'), undefined);
});

t.test('the published schema pattern accepts exactly the durations the proxy parses', async (t) => {
  const pattern = new RegExp(FORMAT_PATTERNS.duration, 'u');
  for (const text of ['250ms', '3s', '1m', '1.5s', '2h', '3', 'fast', '1.s', '5 s', '-1s', '1d']) {
    t.equal(pattern.test(text), parseDuration(text) !== undefined, text);
  }
});
