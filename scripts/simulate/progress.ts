/**
 * A one-line progress bar on stderr: reports received out of expected, elapsed time and an
 * estimate of what is left. On a terminal it redraws in place; otherwise (a log file, CI)
 * it prints a line every 10% so logs stay readable.
 */

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(sec).padStart(2, '0')}s`
      : `${sec}s`;
}

/** `[#####-----]  50% 10/20 label  1m05s elapsed, ~1m05s left` */
export function renderBar(done: number, total: number, label: string, elapsedMs: number, width = 28): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(f * width);
  const eta =
    done > 0 && done < total ? `, ~${formatDuration((elapsedMs / done) * (total - done))} left` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}% ${done}/${total} ${label}  ${formatDuration(elapsedMs)} elapsed${eta}`;
}

export class ProgressBar {
  private done = 0;
  private label = '';
  private lastDecile = -1;
  private stopped = false;
  private readonly started = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    private readonly enabled = true,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, label = this.label): void {
    this.done = done;
    this.label = label;
    if (!this.enabled) return;
    const line = renderBar(this.done, this.total, this.label, Date.now() - this.started);
    if (this.tty) {
      this.stream.write(`\r${line}\x1b[K`);
      return;
    }
    const decile = this.total > 0 ? Math.floor((10 * this.done) / this.total) : 0;
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.stream.write(`${line}\n`);
    }
  }

  /** Prints a message above the bar. */
  log(message: string): void {
    if (this.tty && this.enabled) this.stream.write('\r\x1b[K');
    this.stream.write(`${message}\n`);
    if (this.tty && this.enabled) this.update(this.done);
  }

  /** Leaves the bar's line (once; later calls do nothing). */
  stop(): void {
    if (this.tty && this.enabled && !this.stopped) this.stream.write('\n');
    this.stopped = true;
  }
}
