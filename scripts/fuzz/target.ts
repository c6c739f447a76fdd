/**
 * The coordinator under fuzz: either the built `server/bin/mutua-server.js` started here
 * (port 0, embedded SQLite in a temp dir, JSON logs so error-level lines can be counted),
 * or an existing one given by URL and admin token. Then a federation for the run over a
 * small random public set, created through the admin API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePublicSet } from '@mutua/proto';
import { defaultHeapMb } from '../heap-default.ts';
import type { Rng } from './rng.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = join(REPO_ROOT, 'server/bin/mutua-server.js');
/** Variables the coordinator reads: never inherited from the shell that runs the fuzzer. */
const CONFIG_ENV = /^(PORT|HOST|DATABASE_URL|LOG_LEVEL|MUTUA_.*|NODE_TEST_CONTEXT|NODE_OPTIONS)$/;

export interface Target {
  url: string;
  wsUrl: string;
  adminToken: string;
  /** The coordinator's pid when started here (RSS is read from /proc), else null. */
  pid: number | null;
  /** Set when the coordinator started here exited while the run was going on. */
  exit: { code: number | null; signal: string | null } | null;
  /** Error- and fatal-level log lines the coordinator printed (started here only). */
  errorLines: string[];
  stop(): Promise<void>;
}

export async function startTarget(extraArgs: string[] = [], nodeOptions = ''): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mutua-fuzz-'));
  const adminToken = randomBytes(24).toString('base64url');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!CONFIG_ENV.test(k)) env[k] = v;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      SERVER_BIN,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--admin-token',
      adminToken,
      ...extraArgs,
    ],
    {
      cwd: REPO_ROOT,
      env: {
        ...env,
        LOG_LEVEL: 'warn',
        MUTUA_LOG_FORMAT: 'json',
        // As `npm start` and the image start it; later flags (--node-options) win.
        NODE_OPTIONS: `--max-old-space-size=${defaultHeapMb()} ${nodeOptions}`.trim(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const target: Target = {
    url: '',
    wsUrl: '',
    adminToken,
    pid: child.pid ?? null,
    exit: null,
    errorLines: [],
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  let pending = '';
  const onData = (d: string) => {
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (/"level":(50|60)/.test(line)) target.errorLines.push(line);
      const m = /mutua-server listening on (http:\/\/[^\s"]+)/.exec(line);
      if (m && !target.url) {
        target.url = m[1]!;
        target.wsUrl = `${m[1]!.replace(/^http/, 'ws')}/v1/ws`;
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', onData);
  child.stderr!.setEncoding('utf8').on('data', onData);
  child.on('exit', (code, signal) => {
    target.exit = { code, signal };
  });
  const deadline = Date.now() + 60_000;
  while (!target.url) {
    if (target.exit)
      throw new Error(`the coordinator exited (${target.exit.code ?? target.exit.signal}) before listening`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the coordinator did not report its address within 60 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return target;
}

export function externalTarget(url: string, adminToken: string): Target {
  const base = url.replace(/\/+$/, '');
  return {
    url: base,
    wsUrl: `${base.replace(/^http/, 'ws')}/v1/ws`,
    adminToken,
    pid: null,
    exit: null,
    errorLines: [],
    stop: async () => undefined,
  };
}

/** Resident set size of a local process in bytes (Linux /proc), or null. */
export function rssBytes(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a local process has used (Linux /proc), or null. */
export function cpuSeconds(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

export interface Federation {
  id: string;
  /** Join tokens: one per legitimate participant, one shared by the fuzzing participants. */
  legitTokens: string[];
  fuzzToken: string;
  inputShape: number[];
  classes: number;
}

async function admin<T>(
  t: Target,
  method: string,
  path: string,
  body?: unknown,
  raw?: Uint8Array,
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${t.adminToken}` };
  if (raw) headers['content-type'] = 'application/octet-stream';
  else if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers,
    body: raw ? new Uint8Array(raw) : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * A sync federation whose rounds close at a quorum of the legitimate participants (the
 * fuzzing participants are online too and never count on) or at a deadline, with
 * deflate-raw offered so compressed payloads are reachable.
 */
export async function createFederation(t: Target, rng: Rng, legit: number): Promise<Federation> {
  const inputShape = [8];
  const classes = 4;
  const samples = 64;
  const x = rng.bytes(samples * inputShape[0]!);
  const set = await admin<{ id: string }>(
    t,
    'PUT',
    '/v1/public-sets?format=mutua-public-v1&name=fuzz',
    undefined,
    encodePublicSet({ x, sampleCount: samples, shape: inputShape, dtype: 'uint8' }),
  );
  const fed = await admin<{ id: string }>(t, 'POST', '/v1/federations', {
    name: 'fuzz',
    publicSetId: set.id,
    settings: {
      task: { inputShape, numClasses: classes },
      batchSize: 16,
      minParticipants: 1,
      encodings: ['uint8', 'float16', 'float32'],
      compressions: ['deflate-raw'],
      sync: { quorum: legit, deadlineMs: 5000 },
    },
  });
  const token = async (label: string) =>
    (await admin<{ token: string }>(t, 'POST', `/v1/federations/${fed.id}/tokens`, { label })).token;
  const legitTokens: string[] = [];
  for (let i = 0; i < legit; i++) legitTokens.push(await token(`legit-${i}`));
  return { id: fed.id, legitTokens, fuzzToken: await token('fuzz'), inputShape, classes };
}

/** The federation's open round (sync), from the admin API: its growth counts closed rounds. */
export async function currentRound(t: Target, federationId: string): Promise<number> {
  return (await admin<{ currentRound: number }>(t, 'GET', `/v1/federations/${federationId}`)).currentRound;
}

/** mutua_rejections_total{code="INTERNAL"} from /metrics (0 when absent). */
export async function internalRejections(t: Target): Promise<number | null> {
  try {
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    if (!res.ok) return null;
    let n = 0;
    for (const m of (await res.text()).matchAll(
      /^mutua_rejections_total\{[^}]*code="INTERNAL"[^}]*\} (\d+)/gm,
    ))
      n += Number(m[1]);
    return n;
  } catch {
    return null;
  }
}
