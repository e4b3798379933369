import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { PolicyWatcher, type PolicyWatcherOptions } from '../../../proxy/runtime/policy-watcher.js';
import { within } from '../../helpers/wait-for.js';

/** A policy file in a fresh directory, and a started watcher counting the reloads it asks for. */
async function watched(t: Test, options: PolicyWatcherOptions = {}, layout: 'plain' | 'configmap' = 'plain') {
  const dir = mkdtempSync(join(tmpdir(), 'breakwater-watch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'policy.yaml');
  if (layout === 'configmap') {
    // As the kubelet lays out a ConfigMap volume: policy.yaml → ..data/policy.yaml, ..data → a timestamped directory.
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'policy.yaml'), 'version: 1\n');
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'policy.yaml'), file);
  } else {
    writeFileSync(file, 'version: 1\n');
  }
  let changes = 0;
  const waiters: Array<() => void> = [];
  const watcher = new PolicyWatcher(
    file,
    () => {
      changes++;
      for (const wake of waiters.splice(0)) wake();
    },
    { debounceMs: 20, ...options },
  );
  await watcher.start();
  t.teardown(() => watcher.stop());
  return {
    dir,
    file,
    watcher,
    get changes() {
      return changes;
    },
    /** Resolves at the next reload the watcher asks for. */
    nextChange: (what: string) => within(new Promise<void>((resolve) => waiters.push(resolve)), 5000, what),
  };
}

/** Proving that nothing happens takes time: several debounce and poll periods, bounded. */
const quietPeriod = () => new Promise((resolve) => setTimeout(resolve, 300));

t.test('a changed policy file asks for one reload', async (t) => {
  const w = await watched(t);
  const change = w.nextChange('a reload after the file changed');
  writeFileSync(w.file, 'version: 2\n');
  await change;
  t.equal(w.changes, 1);
});

t.test('writes in quick succession ask for one reload of the last content', async (t) => {
  const w = await watched(t);
  const change = w.nextChange('a reload after three writes');
  for (const version of [2, 3, 4]) writeFileSync(w.file, `version: ${version}\n`);
  await change;
  const next = w.nextChange('a reload after a later change');
  writeFileSync(w.file, 'version: 5\n');
  await next;
  t.equal(w.changes, 2, 'the three writes made one reload, the later change one more');
});

t.test('rewriting the same content, or the file missing for a moment, asks for no reload', async (t) => {
  const w = await watched(t, { pollMs: 20 });
  writeFileSync(w.file, 'version: 1\n');
  await quietPeriod();
  t.equal(w.changes, 0, 'same bytes: nothing to reload');
  unlinkSync(w.file);
  await quietPeriod();
  t.equal(w.changes, 0, 'missing (mid-swap): nothing to reload');
  writeFileSync(w.file, 'version: 1\n');
  await quietPeriod();
  t.equal(w.changes, 0, 'back with the same bytes');
  const change = w.nextChange('a reload once the content differs');
  writeFileSync(w.file, 'version: 2\n');
  await change;
  t.equal(w.changes, 1);
});

t.test('a ConfigMap update (the ..data symlink swapped) asks for a reload', async (t) => {
  const w = await watched(t, {}, 'configmap');
  mkdirSync(join(w.dir, '..v2'));
  writeFileSync(join(w.dir, '..v2', 'policy.yaml'), 'version: 2\n');
  symlinkSync('..v2', join(w.dir, '..data_tmp'));
  const change = w.nextChange('a reload after the ..data swap');
  renameSync(join(w.dir, '..data_tmp'), join(w.dir, '..data'));
  await change;
  t.equal(w.changes, 1);
});

t.test('the poll finds a change the directory watch was not told about', async (t) => {
  const w = await watched(t, { pollMs: 20 });
  // Closing the watch stands in for a filesystem whose events never arrive; the poll keeps running.
  Reflect.get(w.watcher, 'watcher').close();
  const change = w.nextChange('the poll to find the change');
  writeFileSync(w.file, 'version: 2\n');
  await change;
  t.equal(w.changes, 1);
});

t.test('a stopped watcher asks for nothing more', async (t) => {
  const w = await watched(t, { pollMs: 20 });
  w.watcher.stop();
  writeFileSync(w.file, 'version: 2\n');
  await quietPeriod();
  t.equal(w.changes, 0);
});
