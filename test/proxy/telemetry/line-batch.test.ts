// Log lines are batched ahead of pino's destination: every line must arrive once, in order, and nothing may wait
// longer than a flush; an idle batch keeps no timer.
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { AccessLog } from '../../../proxy/telemetry/access-log.js';
import { LineBatch } from '../../../proxy/telemetry/line-batch.js';
import { waitFor } from '../../helpers/wait-for.js';

function recording() {
  const writes: string[] = [];
  let syncs = 0;
  return { writes, syncs: () => syncs, destination: { write: (data: string) => writes.push(data), flushSync: () => void syncs++ } };
}

t.test('lines are handed over joined, once at least minLength characters are pending', async (t) => {
  const { writes, destination } = recording();
  const batch = new LineBatch(destination, 10, 60_000);
  batch.write('aaaa\n');
  t.same(writes, [], 'below minLength nothing is written yet');
  batch.write('bbbb\n');
  t.same(writes, ['aaaa\nbbbb\n'], 'reaching minLength writes the batch as one string, in order');
  batch.write('c\n');
  batch.flush();
  t.same(writes, ['aaaa\nbbbb\n', 'c\n'], 'flush writes the remainder however short');
  batch.flush();
  t.equal(writes.length, 2, 'a flush with nothing pending writes nothing');
});

t.test('a short line is written within maxDelayMs, and the timer stops once nothing is pending', async (t) => {
  const { writes, destination } = recording();
  const batch = new LineBatch(destination, 4096, 20);
  t.ok(batch.idle, 'no timer before the first line');
  batch.write('one\n');
  t.notOk(batch.idle, 'a pending line arms the timer');
  await waitFor(() => writes.length === 1, 5_000, 'the pending line to be written by the timer');
  t.same(writes, ['one\n']);
  await waitFor(() => batch.idle, 5_000, 'the timer to stop with nothing pending');
  batch.write('two\n');
  await waitFor(() => writes.length === 2, 5_000, 'a line after the timer stopped to be written too');
  t.same(writes, ['one\n', 'two\n'], 'written once each, in order');
  await waitFor(() => batch.idle, 5_000, 'the timer to stop again');
});

t.test('flushSync writes what is pending, then has the destination finish its writes', async (t) => {
  const { writes, syncs, destination } = recording();
  const batch = new LineBatch(destination, 4096, 60_000);
  batch.write('last words\n');
  batch.flushSync();
  t.same(writes, ['last words\n']);
  t.equal(syncs(), 1);
});

t.test('through pino and sonic-boom to a file: pino lines and access lines interleave in order, none lost', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'breakwater-log-')), 'out.log');
  const batch = new LineBatch(pino.destination({ dest: file, sync: true, minLength: 0 }), 4096, 60_000);
  const log = pino({ base: { service: 'breakwater' } }, batch);
  const access = new AccessLog(batch, () => ',"time":1', { service: 'breakwater' }, true).for({ listener: 'egress', route: 'api' });
  const count = 500;
  for (let i = 0; i < count; i++) {
    if (i % 10 === 0) log.warn({ i }, 'event');
    access.write({ method: 'GET', path: `/${i}`, status: 200, outcome: 'ok', requestId: String(i) });
  }
  batch.flushSync();
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { msg: string; i?: number; path?: string });
  t.equal(lines.length, count + count / 10, 'every line written, each whole');
  const order = lines.map((line) => (line.msg === 'event' ? `event ${line.i}` : line.path));
  const expected: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 10 === 0) expected.push(`event ${i}`);
    expected.push(`/${i}`);
  }
  t.same(order, expected, 'in the order they were logged');
});
