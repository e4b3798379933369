/**
 * The Node options the policy check's child process inherits from the proxy: its command line (process.execArgv)
 * and NODE_OPTIONS, with what must not reach the child taken out. The child is a plain script that reads one file and
 * answers: the proxy's entry point (`node -e` would run the caller's script again, which forks again), its debugger
 * (a second --inspect-brk waits for a debugger that never comes), profilers, --watch, heap snapshots (one would be
 * written whenever a too-large file brings the child near its limit) and start-up snapshots would all misfire there.
 * Loaders (--import, --require) and runtime flags pass on.
 */

/** Long options, without "--", the child must not inherit, and whether each takes the next argument as its value. */
const NOT_INHERITED = new Map<string, boolean>([
  ['eval', true], ['print', true], ['check', false], ['interactive', false], ['input-type', true],
  ['watch', false], ['watch-path', true], ['watch-preserve-output', false],
  ['inspect', false], ['inspect-brk', false], ['inspect-wait', false], ['inspect-port', true], ['debug-port', true],
  ['inspect-publish-uid', true],
  ['cpu-prof', false], ['cpu-prof-dir', true], ['cpu-prof-name', true], ['cpu-prof-interval', true],
  ['heap-prof', false], ['heap-prof-dir', true], ['heap-prof-name', true], ['heap-prof-interval', true], ['prof', false],
  ['heapsnapshot-near-heap-limit', true], ['heapsnapshot-signal', true],
  ['snapshot-blob', true], ['build-snapshot', false], ['build-snapshot-config', true],
  // The child gets its own limit: what the proxy's heap has left.
  ['max-old-space-size', true],
]);
/** The test runner's options, all dropped; these take a value. */
const TEST_RUNNER_VALUES = new Set(['test-concurrency', 'test-name-pattern', 'test-skip-pattern', 'test-reporter',
  'test-reporter-destination', 'test-shard', 'test-timeout']);
/** Short options the child must not inherit (-e -p -c -i, also within a cluster such as -pe), and those taking a value. */
const SHORT_NOT_INHERITED = /[epci]/;
const SHORT_TAKES_VALUE = /[epr]$/;

/** Whether `arg` is dropped, and whether the argument after it is its value (dropped with it). */
function classify(arg: string): { drop: boolean; takesNext: boolean } {
  if (arg.startsWith('--')) {
    const value = arg.includes('=');
    const name = arg.slice(2).split('=', 1)[0]!.replaceAll('_', '-'); // Node accepts --inspect_brk for --inspect-brk
    if (name.startsWith('test')) return { drop: true, takesNext: !value && TEST_RUNNER_VALUES.has(name) };
    const takesValue = NOT_INHERITED.get(name);
    return takesValue === undefined ? { drop: false, takesNext: false } : { drop: true, takesNext: takesValue && !value };
  }
  if (/^-[A-Za-z]+$/.test(arg) && SHORT_NOT_INHERITED.test(arg)) return { drop: true, takesNext: SHORT_TAKES_VALUE.test(arg) };
  return { drop: false, takesNext: false };
}

function inherited(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const { drop, takesNext } = classify(args[index]!);
    if (!drop) kept.push(args[index]!);
    else if (takesNext) index++;
  }
  return kept;
}

/** The child's command-line options: the proxy's own, less those above, plus its heap limit (which wins over NODE_OPTIONS). */
export function checkerExecArgv(execArgv: readonly string[], heapMb: number): string[] {
  return [...inherited(execArgv), `--max-old-space-size=${heapMb}`];
}

/** NODE_OPTIONS for the child, less the options above; undefined when there is nothing to take out. */
export function checkerNodeOptions(nodeOptions: string | undefined): string | undefined {
  if (nodeOptions === undefined) return undefined;
  const tokens = splitNodeOptions(nodeOptions);
  const kept = inherited(tokens);
  return kept.length === tokens.length ? undefined : kept.map(quoteNodeOption).join(' ');
}

/** NODE_OPTIONS as Node splits it: on spaces, except inside double quotes, where a backslash escapes the next character. */
export function splitNodeOptions(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let started = false;
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quoted && char === '\\' && index + 1 < text.length) {
      current += text[++index];
    } else if (char === '"') {
      quoted = !quoted;
      started = true;
    } else if (char === ' ' && !quoted) {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (started) tokens.push(current);
  return tokens;
}

function quoteNodeOption(token: string): string {
  return /[\s"\\]/.test(token) || token === '' ? `"${token.replace(/["\\]/g, '\\$&')}"` : token;
}
