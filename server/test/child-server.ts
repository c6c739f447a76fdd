/**
 * The coordinator as a child process, the way operators run it: `bin/mutua-server.js`
 * (or any command line, e.g. the Dockerfile's CMD) with flags and environment. The
 * address is read from the "listening on" line the entry point prints, so port 0 works.
 * Children are killed (by pid) after the test that started them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVER_BIN = fileURLToPath(new URL('../bin/mutua-server.js', import.meta.url));

/** Variables the coordinator reads, removed from the inherited environment so the host's settings never leak in. */
const CONFIG_ENV = /^(PORT|HOST|DATABASE_URL|LOG_LEVEL|MUTUA_.*|NODE_TEST_CONTEXT|NODE_OPTIONS)$/;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Arguments after the bin (ignored when `command` is given). */
  args?: string[];
  /** A whole command line instead of `node bin/mutua-server.js ...args`. */
  command?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this user and group (tests as root, e.g. an unprivileged container user). */
  uid?: number;
  gid?: number;
}

function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!CONFIG_ENV.test(k)) out[k] = v;
  return { LOG_LEVEL: 'warn', ...out, ...env };
}

function start(o: SpawnOptions): ChildProcess {
  const [cmd, ...rest] = o.command ?? [process.execPath, SERVER_BIN, ...(o.args ?? [])];
  return spawn(cmd!, rest, {
    cwd: o.cwd ?? REPO_ROOT,
    env: childEnv(o.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.uid !== undefined ? { uid: o.uid } : {}),
    ...(o.gid !== undefined ? { gid: o.gid } : {}),
  });
}

/** Runs the command to completion (e.g. --help, or a configuration it must refuse). */
export function runServer(
  o: SpawnOptions,
  timeoutMs = 30_000,
): Promise<Exit & { stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = start(o);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export class ChildServer {
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly exited: Promise<Exit>;

  constructor(
    readonly child: ChildProcess,
    url: string,
    exited: Promise<Exit>,
    private readonly output: () => string,
  ) {
    this.url = url;
    this.port = Number(new URL(url).port);
    this.wsUrl = `${url.replace(/^http/, 'ws')}/v1/ws`;
    this.exited = exited;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the child printed so far (stdout and stderr), for assertion messages. */
  get log(): string {
    return this.output();
  }

  /** Sends `signal` and waits for the exit; rejects if it takes longer than `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<Exit & { ms: number }> {
    const started = Date.now();
    if (this.running) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`pid ${this.pid} did not exit ${timeoutMs} ms after ${signal}\n${this.log}`)),
        timeoutMs,
      );
    });
    try {
      const exit = await Promise.race([this.exited, timeout]);
      return { ...exit, ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the child printed a line matching `pattern` (e.g. a test hold point, see engine/test-hold.ts). */
  waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    if (pattern.test(this.log)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pattern.test(this.log)) return;
        done();
        resolve();
      };
      const exited = () => {
        done();
        reject(new Error(`the coordinator exited before printing ${pattern}\n${this.log}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the coordinator did not print ${pattern} within ${timeoutMs} ms\n${this.log}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.child.stdout!.off('data', check);
        this.child.off('exit', exited);
      };
      // Listeners run after spawnServer's own, which appends the data to the log first.
      this.child.stdout!.on('data', check);
      this.child.once('exit', exited);
    });
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, init);
  }
}

/**
 * Starts the coordinator and resolves once it printed its address. Rejects (with the
 * child's output) if it exits first or takes longer than `startTimeoutMs`.
 */
export function spawnServer(
  t: TestContext | null,
  o: SpawnOptions,
  startTimeoutMs = 45_000,
): Promise<ChildServer> {
  const child = start(o);
  let output = '';
  let pending = '';
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  t?.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the coordinator did not report its address within ${startTimeoutMs} ms\n${output}`));
    }, startTimeoutMs);
    const onLine = (line: string) => {
      const m = /mutua-server listening on (http:\/\/\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve(new ChildServer(child, m[1]!, exited, () => output));
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) onLine(line);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`the coordinator exited (${e.code ?? e.signal}) before listening\n${output}`));
    });
  });
}
