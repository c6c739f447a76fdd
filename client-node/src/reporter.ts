/**
 * What the person at the terminal sees: a progress bar for local training (stderr, only on
 * a TTY: cli-progress draws nothing on a pipe, so logs of the experiment harness stay clean),
 * one status line per round (stdout), and warnings such as reconnects (stderr). --quiet
 * keeps only errors.
 */
import cliProgress from 'cli-progress';

export interface ReporterOptions {
  quiet?: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface BarPayload {
  label: string;
  epoch: number;
  epochs: number;
  loss: string;
}

export class Reporter {
  readonly quiet: boolean;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  private bar: cliProgress.SingleBar | null = null;

  constructor(options: ReporterOptions = {}) {
    this.quiet = options.quiet ?? false;
    this.out = options.out ?? process.stdout;
    this.err = options.err ?? process.stderr;
  }

  /** A status line (stdout). */
  info(line: string): void {
    if (this.quiet) return;
    this.stopBar();
    this.out.write(`${line}\n`);
  }

  /** Something went wrong but the client carries on (stderr). */
  warn(line: string): void {
    if (this.quiet) return;
    this.stopBar();
    this.err.write(`mutua-client: ${line}\n`);
  }

  /** The run cannot go on (stderr, even with --quiet). */
  error(line: string): void {
    this.stopBar();
    this.err.write(`mutua-client: ${line}\n`);
  }

  /** Starts a training bar over `total` steps. */
  startBar(total: number, payload: BarPayload): void {
    this.stopBar();
    if (this.quiet || !this.err.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.err,
        format:
          '{label} [{bar}] {value}/{total} steps | epoch {epoch}/{epochs} | loss {loss} | {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, payload);
  }

  /** Moves the bar to `value` of `total` steps (the total is known from the first progress event). */
  updateBar(value: number, total: number, payload: Partial<BarPayload>): void {
    const bar = this.bar;
    if (!bar) return;
    if (bar.getTotal() !== total) bar.setTotal(total);
    bar.update(value, payload);
  }

  stopBar(): void {
    const bar = this.bar;
    this.bar = null;
    bar?.stop();
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} kB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(2)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

export function formatPercent(fraction: number | undefined): string {
  return fraction === undefined ? '-' : `${(100 * fraction).toFixed(1)}%`;
}
