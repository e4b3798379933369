import t from 'tap';
import { failureConditions } from '../../../proxy/config/conditions.js';
import { settingsFingerprint } from '../../../proxy/routing/settings-fingerprint.js';

t.test('settings that differ only inside a Set or a Map have different fingerprints', async (t) => {
  t.not(settingsFingerprint({ failOn: failureConditions([429]) }), settingsFingerprint({ failOn: failureConditions([503]) }), 'failOn [429] is not failOn [503]');
  t.not(settingsFingerprint({ codes: new Map([[1, 'a']]) }), settingsFingerprint({ codes: new Map([[1, 'b']]) }));
});

t.test('equal content gives equal fingerprints, whatever order a Set or Map was filled in', async (t) => {
  t.equal(settingsFingerprint({ failOn: failureConditions([503, 429, 'unavailable']) }), settingsFingerprint({ failOn: failureConditions(['unavailable', 429, 503]) }));
  t.equal(settingsFingerprint({ s: new Set([10, 9, 100]) }), settingsFingerprint({ s: new Set([100, 10, 9]) }), 'numbers sort by value');
  t.equal(settingsFingerprint({ m: new Map([['b', 1], ['a', 2]]) }), settingsFingerprint({ m: new Map([['a', 2], ['b', 1]]) }));
});
