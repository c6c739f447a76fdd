/**
 * Every child process the harness starts is registered here, so that a normal end, an
 * error, Ctrl-C or SIGTERM leaves none behind: each is sent SIGTERM (a participant saves a
 * checkpoint and leaves, the coordinator finishes its writes), then SIGKILL if it is still
 * there after a grace period. Children are ended by pid, never by name.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly exited: Promise<Exit>;
  /** The last lines the child wrote to stderr (for error messages). */
  tail(): string;
}

const TAIL_CHARS = 4000;

export class ProcessGroup {
  private readonly children = new Set<Child>();

  /**
   * Starts `command args`. stdout and stderr go to `logFile` when given (and the last few
   * KB of stderr are kept for error messages either way).
   */
  spawn(
    name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions & { logFile?: string } = {},
  ) {
    const { logFile, ...spawnOptions } = options;
    const proc = spawn(command, [...args], { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
    proc.stdout!.on('data', (d: Buffer) => log?.write(d));
    proc.stderr!.on('data', (d: Buffer) => {
      log?.write(d);
      tail = (tail + d.toString('utf8')).slice(-TAIL_CHARS);
    });
    const exited = new Promise<Exit>((resolve) => {
      proc.on('error', (err) => {
        tail += `\n${err.message}`;
        resolve({ code: null, signal: null });
      });
      proc.on('close', (code, signal) => {
        log?.end();
        resolve({ code, signal });
      });
    });
    const child: Child = { name, process: proc, exited, tail: () => tail };
    this.children.add(child);
    void exited.then(() => this.children.delete(child));
    return child;
  }

  get running(): number {
    return this.children.size;
  }

  /** SIGTERM to `child`, SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(child: Child, graceMs = 10_000): Promise<Exit> {
    const p = child.process;
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }, graceMs);
    try {
      return await child.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops every running child at once. */
  async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all([...this.children].map((c) => this.stop(c, graceMs)));
  }

  /** Last resort on process exit: SIGKILL whatever is left (synchronous). */
  killAll(): void {
    for (const c of this.children) {
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    }
  }
}

/** Waits for `child` to print a line matching `pattern` on stdout; rejects if it exits or times out first. */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let pending = '';
    const onData = (d: Buffer) => {
      pending += d.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const m = pattern.exec(line);
        if (m) {
          done();
          resolve(m);
          return;
        }
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new Error(
          `${child.name} printed nothing matching ${pattern} within ${timeoutMs} ms\n${child.tail()}`,
        ),
      );
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.process.stdout!.off('data', onData);
    };
    child.process.stdout!.on('data', onData);
    void child.exited.then((e) => {
      done();
      reject(new Error(`${child.name} exited (${e.code ?? e.signal}) before it was ready\n${child.tail()}`));
    });
  });
}
