import t from 'tap';
import { parseDuration } from '../../../proxy/config/duration.js';

t.test('parses the units the policy file uses', async (t) => {
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('3s'), 3000);
  t.equal(parseDuration('1m'), 60_000);
  t.equal(parseDuration('1.5s'), 1500);
  t.equal(parseDuration('3'), undefined);
  t.equal(parseDuration('fast'), undefined);
});
