/**
 * The edge client as a child process, as the experiment harness and users run it:
 * `node client-node/bin/mutua-client.js ...`. Output is collected line by line, and tests
 * wait on lines (`waitFor`) or the exit, never on fixed sleeps. Children still running
 * after their test are killed by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLIENT_BIN = fileURLToPath(new URL('../bin/mutua-client.js', import.meta.url));

/** Variables that would change how a child behaves (the test runner's own, a host's node options). */
const DROP_ENV = /^(NODE_TEST_CONTEXT|NODE_OPTIONS|XDG_CACHE_HOME)$/;

export interface ClientExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class ClientProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ClientExit>;
  stdout = '';
  stderr = '';
  private waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  constructor(args: string[], env: Record<string, string>) {
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!DROP_ENV.test(k)) base[k] = v;
    this.child = spawn(process.execPath, [CLIENT_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = (stream: NodeJS.ReadableStream, sink: 'stdout' | 'stderr') => {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        this[sink] += d;
        pending += d;
        const parts = pending.split('\n');
        pending = parts.pop()!;
        for (const line of parts) this.onLine(line);
      });
    };
    lines(this.child.stdout!, 'stdout');
    lines(this.child.stderr!, 'stderr');
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        for (const w of this.waiters.splice(0)) w.resolve('');
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  private onLine(line: string): void {
    for (const w of [...this.waiters]) {
      if (w.re.test(line)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }

  /** Resolves with the first line (stdout or stderr) matching `re` from now on; rejects if the process exits first. */
  async waitFor(re: RegExp): Promise<string> {
    const line = await new Promise<string>((resolve) => this.waiters.push({ re, resolve }));
    if (line === '') throw new Error(`the client exited before printing ${re}\n${this.output}`);
    return line;
  }

  get output(): string {
    return `--- stdout\n${this.stdout}--- stderr\n${this.stderr}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }
}

/**
 * A scratch directory for a test (checkpoints, cache, metrics), removed after it. Every
 * client gets XDG_CACHE_HOME inside it so no test touches the real ~/.cache.
 */
export function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'mutua-client-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `mutua-client args`; killed after the test if still running. */
export function startClient(t: TestContext, args: string[], env: Record<string, string> = {}): ClientProcess {
  const p = new ClientProcess(args, env);
  t.after(() => p.kill());
  return p;
}

/** Runs `mutua-client args` to completion, failing the test if it takes longer than `timeoutMs`. */
export async function runClient(
  t: TestContext,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<ClientExit> {
  const p = startClient(t, args, env);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.kill();
      reject(new Error(`mutua-client ${args.join(' ')} still running after ${timeoutMs} ms\n${p.output}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The JSON lines of a --metrics-out file. */
export function readJsonLines<T = Record<string, unknown>>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** A TCP port nothing listens on (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
