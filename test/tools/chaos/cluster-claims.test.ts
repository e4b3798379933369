// Mini-cluster runs in parallel each write a claim while others list them to find leftovers. A claim file caught
// between its creation and its first write is empty: such a file, or any that is not a claim, is passed over rather
// than failing the run that lists it.
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import t from 'tap';
import { dropClaim, listClaims, writeClaim } from '../../../chaos/environments/cluster/claims.js';
import { clusterSkip } from './cluster-fixture.js';

const skip = await clusterSkip(t);
const testId = () => `claimtest${randomBytes(4).toString('hex')}`;

t.test('files in the claims directory that are not whole claims are passed over', { skip }, async (t) => {
  const id = testId();
  await writeClaim(id); // makes the directory
  t.teardown(() => dropClaim(id));
  const damaged = { empty: '', torn: '{"id": "tor', 'not an object': 'null', 'no pid': '{"id": "claimtestx"}' };
  const files = Object.keys(damaged).map(() => `/run/breakwater-chaos/${testId()}.json`);
  t.teardown(() => Promise.all(files.map((file) => rm(file, { force: true }))));
  await Promise.all(Object.values(damaged).map((text, i) => writeFile(files[i]!, text)));
  const claims = await listClaims();
  t.same(claims.filter((c) => c.id === id), [{ id, pid: process.pid }], 'the whole claim is listed');
  t.equal(claims.filter((c) => c.id.startsWith('claimtest')).length, 1, 'and nothing made up from the damaged files');
});
