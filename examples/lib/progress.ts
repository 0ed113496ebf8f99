/** A one-line terminal progress bar (redrawn in place on a TTY, plain lines otherwise). */

/** Renders progress of `total` steps with a message, on stderr. */
export class ProgressBar {
  private readonly start = Date.now();
  private lastPlain = -1;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Shows step `done` of `total` with a short status such as the loss. */
  update(done: number, status: string): void {
    const frac = Math.min(1, done / this.total);
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : 0;
    const width = 28;
    const filled = Math.round(frac * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const line = `${bar} ${String(done).padStart(String(this.total).length)}/${this.total} ${(frac * 100).toFixed(0).padStart(3)}% ${status} | ${elapsed.toFixed(1)}s elapsed, ${eta.toFixed(1)}s left`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\x1b[K`);
      if (done >= this.total) this.stream.write('\n');
    } else {
      // Without a terminal, print about every 10% so logs stay readable.
      const decile = Math.floor(frac * 10);
      if (decile !== this.lastPlain || done >= this.total) {
        this.lastPlain = decile;
        this.stream.write(`${line}\n`);
      }
    }
  }
}
