import t from 'tap';
import { PassThrough, type Readable } from 'node:stream';
import { RequestScope } from '../../../proxy/core/request-scope.js';
import { StreamReplay } from '../../../proxy/core/stream-replay.js';
import { ReplayMemory } from '../../../proxy/server/replay-memory.js';

async function readAll(reader: Readable): Promise<string> {
  let text = '';
  for await (const chunk of reader) text += String(chunk);
  return text;
}

t.test('a second attempt gets the whole body: the bytes kept, then the rest as it arrives', async (t) => {
  const source = new PassThrough();
  const memory = new ReplayMemory(1024);
  const scope = new RequestScope();
  const replay = new StreamReplay(source, 100, memory, scope);
  t.ok(replay.replayable, 'nothing sent yet');
  const first = replay.open();
  source.write('one,');
  await new Promise((resolve) => first.once('data', resolve));
  t.notOk(replay.replayable, 'a message went upstream while the request stream is open: a streaming call is not sent twice');
  source.end('two');
  const rest = await readAll(first);
  t.equal(rest, 'two');
  t.ok(replay.replayable, 'complete and kept: a unary call can be retried');
  t.equal(await readAll(replay.open()), 'one,two');
  t.equal(memory.used, 7);
  scope.end();
  t.equal(memory.used, 0, 'released when the request ends');
});

t.test('a body past the limit, or the process-wide memory, is not kept and cannot be replayed', async (t) => {
  for (const [limit, memoryBytes] of [[4, 1024], [100, 4]] as const) {
    const source = new PassThrough();
    const memory = new ReplayMemory(memoryBytes);
    const scope = new RequestScope();
    const replay = new StreamReplay(source, limit, memory, scope);
    const first = replay.open();
    source.end('0123456789');
    t.equal(await readAll(first), '0123456789', 'the attempt still gets all of it');
    t.notOk(replay.replayable);
    t.equal(memory.used, 0, 'nothing held');
    t.throws(() => replay.open(), /no longer replayable/);
    scope.end();
  }
});

t.test('a client that stops mid-body fails the reader instead of leaving the attempt waiting', async (t) => {
  const source = new PassThrough();
  const replay = new StreamReplay(source, 100, new ReplayMemory(1024), new RequestScope());
  const reader = replay.open();
  source.write('part');
  source.destroy();
  await t.rejects(readAll(reader), /stopped sending/);
});
