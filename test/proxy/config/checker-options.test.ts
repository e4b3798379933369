/**
 * Which of the proxy's Node options its policy-check child inherits: loaders and runtime flags, but not the entry
 * point, debugger, profilers, watch mode, heap or start-up snapshots, from the command line or from NODE_OPTIONS.
 */
import t from 'tap';
import { checkerExecArgv, checkerNodeOptions, splitNodeOptions } from '../../../proxy/config/checker-options.js';

const KEPT = ['--import', 'tsx', '-r', './hook.cjs', '--enable-source-maps', '--max-semi-space-size=8', '-C', 'development'];

t.test('the command line: loaders and runtime flags pass on, the rest is dropped with its values', async (t) => {
  const dropped = [
    ['-e', 'script()'], ['--input-type=module'], ['--print', 'x'], ['-pe', 'script()'], ['-c'], ['-i'],
    ['--inspect-brk=0'], ['--inspect_brk=0'], ['--inspect-port', '9230'], ['--inspect-publish-uid', 'http'],
    ['--watch'], ['--watch-path', 'src'], ['--cpu-prof'], ['--cpu_prof'], ['--cpu-prof-dir', 'profiles'],
    ['--heap-prof'], ['--prof'], ['--heapsnapshot-near-heap-limit', '1'], ['--snapshot-blob', 'snap.blob'],
    ['--build-snapshot'], ['--max-old-space-size=100'], ['--max-old-space-size', '100'], ['--test'], ['--test-only'],
    ['--test-force-exit'], ['--test-name-pattern=a'], ['--test-reporter', 'tap'],
  ];
  for (const args of dropped) {
    t.strictSame(checkerExecArgv([...args, ...KEPT], 48), [...KEPT, '--max-old-space-size=48'], `${args.join(' ')} is dropped with its value`);
  }
});

t.test('NODE_OPTIONS: the same options are dropped, quoting survives, and an untouched value is left alone', async (t) => {
  t.strictSame(splitNodeOptions('--require "/opt/my hooks/a.cjs"  --title "say \\"hi\\""'), ['--require', '/opt/my hooks/a.cjs', '--title', 'say "hi"']);
  const withDebugger = '--import=@tapjs/processinfo --inspect-brk=127.0.0.1:0 --require "/opt/my hooks/a.cjs" --max-old-space-size=160';
  const kept = checkerNodeOptions(withDebugger);
  t.equal(kept, '--import=@tapjs/processinfo --require "/opt/my hooks/a.cjs"');
  t.strictSame(splitNodeOptions(kept!), ['--import=@tapjs/processinfo', '--require', '/opt/my hooks/a.cjs'], 'what is kept splits back to the same options');
  t.equal(checkerNodeOptions('--max-semi-space-size=8 --import=x'), undefined, 'nothing to drop: the environment is passed as it is');
  t.equal(checkerNodeOptions(undefined), undefined);
});
