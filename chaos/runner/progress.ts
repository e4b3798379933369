// Progress on stderr while an experiment runs (stdout is kept for the final table). On a TTY the load phase shows
// a single updating line with the time left; otherwise plain lines, so logs and CI output stay readable.

export class Progress {
  private readonly tty: boolean;
  private ticker?: NodeJS.Timeout;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  line(text: string): void {
    if (this.tty) this.stream.write('\r\x1b[K');
    this.stream.write(`${text}\n`);
  }

  /** Reports the load phase of an arm until the returned function is called. */
  loadPhase(arm: string, durationMs: number, counts: () => { sent: number; ok: number }): () => void {
    const started = Date.now();
    const render = () => {
      const left = Math.max(0, Math.ceil((durationMs - (Date.now() - started)) / 1000));
      const { sent, ok } = counts();
      const rate = sent ? `${((ok / sent) * 100).toFixed(1)}% ok` : 'waiting';
      return `[${arm}] load: ${left}s left, ${sent} requests, ${rate}`;
    };
    if (this.tty) this.ticker = setInterval(() => this.stream.write(`\r\x1b[K${render()}`), 250);
    else this.ticker = setInterval(() => this.line(render()), 10_000);
    return () => {
      clearInterval(this.ticker);
      this.line(render());
    };
  }
}
