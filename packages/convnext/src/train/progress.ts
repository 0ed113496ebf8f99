/** A one-line terminal progress bar (redrawn in place on a TTY, plain lines otherwise). */

/** The stream the bar writes to: stderr, or anything with `write` (tests). */
export interface ProgressStream {
  /** Writes text (the bar redraws with a carriage return). */
  write(s: string): unknown;
  /** A terminal: the bar redraws in place; otherwise a line is printed about every 10%. */
  readonly isTTY?: boolean;
}

/** Renders progress through `total` steps with a short status, on stderr by default. */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDecile = -1;

  constructor(
    private readonly total: number,
    /** Steps already done before this run (a resumed run); the time estimate ignores them. */
    private readonly startAt = 0,
    private readonly stream: ProgressStream = process.stderr,
  ) {}

  /** Shows step `done` of `total` with a status such as the loss. */
  update(done: number, status: string): void {
    const frac = Math.min(1, done / this.total);
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = (done - this.startAt) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const width = 28;
    const filled = Math.round(frac * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const line = `${bar} ${String(done).padStart(String(this.total).length)}/${this.total} ${(frac * 100).toFixed(0).padStart(3)}% ${status} | ${fmtTime(elapsed)} elapsed, ${fmtTime(eta)} left`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\x1b[K`);
      if (done >= this.total) this.stream.write('\n');
      return;
    }
    // Without a terminal, a line about every 10% keeps logs readable.
    const decile = Math.floor(frac * 10);
    if (decile !== this.lastDecile || done >= this.total) {
      this.lastDecile = decile;
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the current line so other output starts on a fresh one (TTY only). */
  interrupt(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}

function fmtTime(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
