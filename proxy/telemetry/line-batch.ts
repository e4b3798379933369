/**
 * Collects log lines and hands them to the destination joined, `minLength` characters at a time. sonic-boom's own
 * minLength batching appends each line to one growing string and measures that string's byte length on every write,
 * which flattens the whole pending batch each time, copying each line over and over as the batch grows. Joining the
 * lines once per batch copies each line once.
 */
export interface LineDestination {
  write(data: string): unknown;
  flushSync(): void;
}

export class LineBatch {
  private lines: string[] = [];
  private pending = 0;
  /** Runs only while lines are pending, so an idle proxy has no timer waking it. */
  private ticker: NodeJS.Timeout | undefined;

  /** A batch is written once it holds minLength characters, and no line waits longer than maxDelayMs. */
  constructor(
    private readonly destination: LineDestination,
    private readonly minLength: number,
    private readonly maxDelayMs: number,
  ) {}

  /** True while no line is pending and no timer is armed. */
  get idle(): boolean {
    return this.ticker === undefined;
  }

  write(line: string): boolean {
    this.lines.push(line);
    this.pending += line.length;
    if (this.pending >= this.minLength) this.flush();
    else if (this.ticker === undefined) this.startTicker();
    return true;
  }

  /** Hands over what is pending, however little. */
  flush(): void {
    if (this.lines.length === 0) return;
    const batch = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    this.pending = 0;
    this.destination.write(batch);
  }

  /** Hands over what is pending and waits until the destination has written it: before exiting. */
  flushSync(): void {
    this.flush();
    this.destination.flushSync();
  }

  // An interval rather than a timer per batch: under load every tick finds lines, and a tick that finds none stops it.
  private startTicker(): void {
    this.ticker = setInterval(() => {
      if (this.lines.length > 0) {
        this.flush();
      } else {
        clearInterval(this.ticker);
        this.ticker = undefined;
      }
    }, this.maxDelayMs);
    this.ticker.unref();
  }
}
