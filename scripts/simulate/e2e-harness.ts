// Shared by the harness's end-to-end tests: runs `scripts/simulate/simulate.ts` as a process,
// as a user does, and finds processes it may have left behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from './coordinator.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./simulate.ts', import.meta.url));
export const base = mkdtempSync(join(tmpdir(), 'simulate-e2e-'));
after(() => rmSync(base, { recursive: true, force: true }));

/** Small enough for CI, large enough that three skewed shards gain from each other. */
// biome-ignore format: flag/value pairs read best side by side
export const QUICK = [
  '--clients', '3',
  '--limit', '300',
  '--public-size', '500',
  '--test-size', '500',
  '--model', 'mlp',
  '--rounds', '6',
  '--seed', '1',
  '--alpha', '0.5',
];

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the harness with its temp dirs under `tmp` (so leftovers can be found by path). */
export function runHarness(
  args: string[],
  tmp: string,
  onStderr?: (text: string, kill: () => void) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
      cwd: ROOT,
      env: { ...cleanEnv(), TMPDIR: tmp },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the harness ran longer than 6 minutes\n${stderr}`));
    }, 6 * 60_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      onStderr?.(stderr, () => child.kill('SIGINT'));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** Processes whose command line mentions `path` (Linux /proc; elsewhere nothing is checked). */
export function processesUnder(path: string): string[] {
  if (!existsSync('/proc')) return [];
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(path)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
