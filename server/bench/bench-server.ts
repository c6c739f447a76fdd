/**
 * Coordinator benchmark: protocol-level participants (no training) over real WebSockets
 * on loopback, against a coordinator in a child process.
 *
 *   npm run bench:server -- [--connections 5000] [--participants-submitting 1000]
 *                           [--duration 20] [--warmup 3] [--mode async|sync]
 *                           [--buffer-k K] [--workers 2] [--think-ms 0]
 *                           [--database-url postgresql://…] [--server-cpu-prof DIR]
 *                           [--server-bin PATH] [--node-options "FLAGS"] [--keep-data] [--json]
 *
 * What it does, in order:
 * 1. Starts `server/bin/mutua-server.js` (its own process and event loop) on 127.0.0.1,
 *    port 0, with a temporary --data-dir (embedded SQLite) or --database-url.
 * 2. Creates a federation through the admin API: public set MNIST test[0:10000], batch
 *    512, 10 classes, uint8 uploads, mutual strategy with mean aggregation, participant
 *    limit = connections. Async: bufferK (default ceil(M/2)), max staleness 8. Sync:
 *    quorum M, deadline 10 s.
 * 3. Forks `--workers` load-generator processes (load-generator.ts) that open the
 *    connections (Hello with a join token, Welcome) and hold them. The coordinator's RSS
 *    (VmRSS in /proc/<pid>/status) before and after, divided by the connections, is the
 *    memory per connection (it includes each participant's row and runtime session, not
 *    only the socket).
 * 4. M of the participants ("submitting", default min(N, 1000)) answer every Task with a
 *    512x10 uint8 PredictionUpload and time its Ack (closed loop: one upload in flight
 *    per participant, the next one when the next Task arrives, after --think-ms on
 *    average). The others keep their connection and receive what the coordinator
 *    broadcasts (RoundClosed and the next Task, with targets, for every consensus
 *    version), as participants busy training would. After a warm-up, acks are counted
 *    over `--duration` seconds.
 * 5. Aggregation time per consensus version: the coordinator's mutua_aggregation_seconds
 *    histogram (/metrics) over the window, and the per-version aggregationMs of the rounds
 *    API (median and maximum).
 * 6. The reconnect storm: every connection is dropped, and once the coordinator has seen
 *    them go, every participant sends a Hello with its resume token at the same moment;
 *    reported as resume admissions/s, Hello→Welcome latency, and failures (a Welcome later
 *    than the client's 20 s handshake timeout counts as one). Join admissions/s come from
 *    step 3 (--connect-concurrency Hellos in flight at once).
 * 7. Stops everything (SIGTERM to the coordinator, which then writes its CPU profile if
 *    --server-cpu-prof was given) and removes the temporary data directory.
 *
 * Progress goes to stderr; the result to stdout (a table, or with --json exactly one JSON
 * object: connections, submissionsPerSec, ackP50Ms / ackP90Ms / ackP99Ms, aggregationMs,
 * rssBytesPerConnection, and the context needed to read them: serverCpu and
 * loadGeneratorCpu in cores, serverRunQueueWait (share of the window the coordinator's
 * main thread was runnable but waiting for a CPU: other work on the machine), load
 * average). Each process needs a file descriptor per connection: the load generators and
 * the coordinator each hold `connections` sockets, so `ulimit -n` must exceed that (the
 * script checks and says so). Loopback only, bounded in connections and time.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildMessage, LoadConfig, ParentMessage, Report, ResumeReport } from './load-generator.ts';

const here = dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '5000' },
    'participants-submitting': { type: 'string' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    mode: { type: 'string', default: 'async' },
    'buffer-k': { type: 'string' },
    workers: { type: 'string', default: '2' },
    'think-ms': { type: 'string', default: '0' },
    'connect-concurrency': { type: 'string', default: '64' },
    'database-url': { type: 'string' },
    'server-cpu-prof': { type: 'string' },
    'server-bin': { type: 'string' },
    // Node/V8 flags for the coordinator process, e.g. "--max-semi-space-size=2".
    'node-options': { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`${readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]}*/\n`);
  process.exit(0);
}

function intOpt(name: keyof typeof values, min: number, fallback?: number): number {
  const raw = values[name];
  if (raw === undefined && fallback !== undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${raw}`);
  return n;
}

const connections = intOpt('connections', 1);
const submitting = Math.min(connections, intOpt('participants-submitting', 0, Math.min(connections, 1000)));
const duration = Number(values.duration);
const warmup = Number(values.warmup);
if (!(duration > 0) || duration > 3600) throw new Error('--duration must be in (0, 3600] seconds');
if (!(warmup >= 0) || warmup > 600) throw new Error('--warmup must be in [0, 600] seconds');
const mode = values.mode;
if (mode !== 'async' && mode !== 'sync') throw new Error(`--mode must be async or sync, got ${mode}`);
const bufferK = intOpt('buffer-k', 1, Math.max(1, Math.ceil(submitting / 2)));
const workers = Math.min(intOpt('workers', 1), connections);
const thinkMs = Number(values['think-ms']);
if (!(thinkMs >= 0)) throw new Error('--think-ms must be ≥ 0');
const concurrency = intOpt('connect-concurrency', 1);
const databaseUrl = values['database-url'];
/** Another checkout's bin (e.g. to compare with an older commit); default this one's. */
const serverBin = values['server-bin'] ?? join(here, '..', 'bin', 'mutua-server.js');
if (
  databaseUrl &&
  !/^postgres(ql)?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(databaseUrl.replace(/\/\/[^@/]*@/, '//'))
) {
  throw new Error('--database-url must point at a PostgreSQL on loopback (127.0.0.1 / localhost)');
}

const isTty = process.stderr.isTTY;
let progressShown = false;
function progress(line: string): void {
  if (values.json && !isTty) {
    process.stderr.write(`${line}\n`);
    return;
  }
  process.stderr.write(isTty ? `\r\x1b[K${line}` : `${line}\n`);
  progressShown = isTty;
}
function note(line: string): void {
  if (progressShown) process.stderr.write('\n');
  progressShown = false;
  process.stderr.write(`${line}\n`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ file descriptors

function fdLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}
const limit = fdLimit();
if (limit < connections + 512) {
  throw new Error(
    `the open-file limit is ${limit}; ${connections} connections need about ${connections + 512} per process. ` +
      `Raise it first, e.g.: bash -c 'ulimit -n ${connections + 1024} && npm run bench:server -- …'`,
  );
}

// ------------------------------------------------------------------ coordinator child

const adminToken = randomBytes(18).toString('base64url');
const dataDir = mkdtempSync(join(tmpdir(), 'mutua-bench-'));
let server: ChildProcess | null = null;
const loaders: ChildProcess[] = [];

async function startServer(): Promise<{ url: string; pid: number }> {
  const nodeArgs: string[] = [];
  const prof = values['server-cpu-prof'];
  if (prof) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${prof}`);
  nodeArgs.push(...(values['node-options'] ?? '').split(/\s+/).filter(Boolean));
  const args = [
    ...nodeArgs,
    serverBin,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
    '--admin-token',
    adminToken,
    '--log-level',
    'warn',
    // The benchmark's participants stay far below this; the default (50/s) would also do.
    '--max-messages-per-second',
    '1000',
    // Every participant comes from 127.0.0.1, and the resume storm has them all unauthenticated
    // at once: the per-address and pending-Hello caps (sized for a flood) would refuse most.
    '--max-connections-per-address',
    String(connections + 100),
    '--max-unauthenticated',
    String(connections + 100),
    '--max-unauthenticated-per-address',
    String(connections + 100),
  ];
  if (databaseUrl) args.push('--database-url', databaseUrl);
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  server = child;
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the coordinator did not start within 60 s')), 60_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /listening on (http:\/\/\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve({ url: m[1]!, pid: child.pid! });
        } else if (line.trim()) note(`[server] ${line.slice(0, 400)}`);
        nl = buf.indexOf('\n');
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => note(`[server] ${chunk.trimEnd().slice(0, 2000)}`));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the coordinator exited (${code ?? signal}) before listening`));
    });
  });
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime: fields 14 and 15, in 1/100 s
  } catch {
    return 0;
  }
}

/**
 * Seconds the main thread of a process spent runnable but waiting for a CPU
 * (/proc/<pid>/schedstat): on a machine shared with other work, this is latency that is
 * not the coordinator's doing.
 */
function runQueueSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return 0;
  }
}

// ------------------------------------------------------------------ admin API

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

interface PromMetrics {
  connections: number;
  aggregationSum: number;
  aggregationCount: number;
  submissions: number;
}

async function scrape(base: string): Promise<PromMetrics> {
  const res = await fetch(`${base}/metrics`);
  const text = await res.text();
  const num = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : 0;
  };
  return {
    connections: num(/^mutua_connections (\S+)$/m),
    aggregationSum: num(/^mutua_aggregation_seconds_sum (\S+)$/m),
    aggregationCount: num(/^mutua_aggregation_seconds_count (\S+)$/m),
    submissions: num(/^mutua_submissions_total\{kind="predictions"\} (\S+)$/m),
  };
}

interface RoundView {
  number: number;
  status: string;
  closedAt: string | null;
  submissions: number;
  aggregationMs: number | null;
}

/**
 * The versions from `from` on. Falls back to the unfiltered first page when the query
 * string is refused (the route declares integer parameters; a coordinator whose
 * validator does not coerce query strings answers 400).
 */
async function listRounds(base: string, federationId: string, from: number): Promise<RoundView[]> {
  try {
    return await api<RoundView[]>(
      base,
      'GET',
      `/v1/federations/${federationId}/rounds?from=${from}&limit=10000`,
    );
  } catch {
    return api<RoundView[]>(base, 'GET', `/v1/federations/${federationId}/rounds`);
  }
}

// ------------------------------------------------------------------ load generators

interface LoaderState {
  child: ChildProcess;
  connected: number;
  failed: number;
  open: number;
  acks: number;
  errors: number;
  done: Promise<{ connected: number; failed: number; failures: Record<string, number> }>;
  report: Promise<Report> | null;
}

function startLoaders(wsUrl: string, joinToken: string): LoaderState[] {
  const states: LoaderState[] = [];
  for (let w = 0; w < workers; w++) {
    const share = (total: number) => Math.floor(total / workers) + (w < total % workers ? 1 : 0);
    const config: LoadConfig = {
      wsUrl,
      joinToken,
      prefix: `bench-w${w}`,
      connections: share(connections),
      submitters: share(submitting),
      concurrency: Math.max(1, Math.ceil(concurrency / workers)),
      thinkMs,
    };
    const child = fork(join(here, 'load-generator.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    loaders.push(child);
    const st: LoaderState = {
      child,
      connected: 0,
      failed: 0,
      open: 0,
      acks: 0,
      errors: 0,
      report: null,
      done: new Promise((resolve, reject) => {
        child.on('message', (m: ChildMessage) => {
          if (m.type === 'progress') {
            st.connected = m.connected;
            st.failed = m.failed;
            st.open = m.open;
            st.acks = m.acks;
            st.errors = m.errors;
          } else if (m.type === 'connected') {
            st.connected = m.connected;
            st.failed = m.failed;
            resolve(m);
          } else if (m.type === 'fatal') reject(new Error(`load generator ${w}: ${m.message}`));
        });
        child.on('exit', (code) => reject(new Error(`load generator ${w} exited (${code})`)));
      }),
    };
    child.send({ type: 'config', config } satisfies ParentMessage);
    states.push(st);
  }
  return states;
}

function tell(states: LoaderState[], m: ParentMessage): void {
  for (const s of states) if (s.child.connected) s.child.send(m);
}

/** Sends `m` to every load generator and waits for each one's reply of type `reply`. */
function askAll<T extends ChildMessage>(
  states: LoaderState[],
  m: ParentMessage,
  reply: T['type'],
  timeoutMs: number,
): Promise<T[]> {
  return Promise.all(
    states.map(
      (s) =>
        new Promise<T>((resolve, reject) => {
          const t = setTimeout(
            () => reject(new Error(`a load generator did not answer ${m.type}`)),
            timeoutMs,
          );
          const on = (msg: ChildMessage) => {
            if (msg.type !== reply) return;
            clearTimeout(t);
            s.child.off('message', on);
            resolve(msg as T);
          };
          s.child.on('message', on);
          s.child.send(m);
        }),
    ),
  );
}

/** The client's handshake timeout (PROTOCOL.md): a resume slower than this counts as failed. */
const HANDSHAKE_TIMEOUT_MS = 20_000;

/**
 * Phase 3, the reconnect storm: every participant's connection is dropped at once (as a
 * coordinator restart or a network cut would), and once the coordinator has seen them go,
 * all of them send a Hello with their resume token at the same moment.
 */
async function resumeStorm(states: LoaderState[], url: string, pid: number) {
  await askAll(states, { type: 'drop' }, 'dropped', 30_000);
  for (let i = 0; i < 100 && (await scrape(url)).connections > 0; i++) await sleep(200);
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const storms = await askAll<ResumeReport>(
    states,
    { type: 'resume', timeoutMs: HANDSHAKE_TIMEOUT_MS },
    'resumed',
    HANDSHAKE_TIMEOUT_MS + 60_000,
  );
  const seconds = (performance.now() - t0) / 1000;
  const lat = Float64Array.from(storms.flatMap((r) => r.latencies)).sort();
  const failures: Record<string, number> = {};
  for (const r of storms)
    for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
  const resumed = sum(storms.map((r) => r.resumed));
  return {
    resumed,
    failed: sum(storms.map((r) => r.failed)),
    seconds: round1(seconds),
    perSec: round1(resumed / seconds),
    helloP50Ms: round1(percentile(lat, 50)),
    helloP99Ms: round1(percentile(lat, 99)),
    helloMaxMs: round1(lat.length ? lat[lat.length - 1]! : Number.NaN),
    serverCpu: round3((cpuSeconds(pid) - cpu0) / seconds),
    failures,
  };
}

function collectReports(states: LoaderState[]): Promise<Report[]> {
  return Promise.all(
    states.map(
      (s) =>
        new Promise<Report>((resolve, reject) => {
          const t = setTimeout(
            () => reject(new Error('a load generator did not report within 30 s')),
            30_000,
          );
          s.child.on('message', (m: ChildMessage) => {
            if (m.type === 'report') {
              clearTimeout(t);
              resolve(m);
            }
          });
          s.child.send({ type: 'stop' } satisfies ParentMessage);
        }),
    ),
  );
}

// ------------------------------------------------------------------ run

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

async function run() {
  const started = Date.now();
  note(
    `bench:server — ${connections} connections, ${submitting} submitting, mode ${mode}` +
      `${mode === 'async' ? ` (bufferK ${bufferK})` : ` (quorum ${submitting})`}, ${workers} load generator(s), ` +
      `${databaseUrl ? 'PostgreSQL' : 'embedded SQLite'}; data dir ${dataDir}`,
  );
  const { url, pid } = await startServer();
  const wsUrl = `${url.replace(/^http/, 'ws')}/v1/ws`;
  const fed = await api<{ id: string }>(url, 'POST', '/v1/federations', {
    name: 'bench',
    publicSet: { dataset: 'mnist', split: 'test', offset: 0, count: 10000 },
    settings: {
      mode,
      aggregation: 'mean',
      batchSize: 512,
      encodings: ['uint8'],
      participantLimit: connections,
      async: { bufferK, maxStaleness: 8 },
      sync: { quorum: submitting, deadlineMs: 10_000, minParticipants: 1 },
    },
  });
  const token = await api<{ token: string }>(url, 'POST', `/v1/federations/${fed.id}/tokens`, {
    label: 'bench',
  });
  await sleep(500);
  const rssBefore = rssBytes(pid);

  // Phase 1: connect and hold.
  const connectStart = performance.now();
  const connectCpu = cpuSeconds(pid);
  const states = startLoaders(wsUrl, token.token);
  const progressTimer = setInterval(() => {
    const c = sum(states.map((s) => s.connected));
    const f = sum(states.map((s) => s.failed));
    const el = (performance.now() - connectStart) / 1000;
    progress(
      `[connect] ${c}/${connections} participants admitted${f ? `, ${f} failed` : ''} (${el.toFixed(0)} s, ${(c / el).toFixed(0)}/s)`,
    );
  }, 1000);
  const phases = await Promise.race([
    Promise.all(states.map((s) => s.done)),
    sleep(600_000).then(() => {
      throw new Error('connecting took more than 10 minutes');
    }),
  ]);
  clearInterval(progressTimer);
  const connectSeconds = (performance.now() - connectStart) / 1000;
  const connectServerCpu = (cpuSeconds(pid) - connectCpu) / connectSeconds;
  const admitted = sum(phases.map((p) => p.connected));
  const failures: Record<string, number> = {};
  for (const p of phases)
    for (const [k, v] of Object.entries(p.failures)) failures[k] = (failures[k] ?? 0) + v;
  note(
    `[connect] ${admitted}/${connections} admitted in ${connectSeconds.toFixed(1)} s` +
      (Object.keys(failures).length ? `; failures: ${JSON.stringify(failures)}` : ''),
  );
  await sleep(2000);
  const rssConnected = rssBytes(pid);
  const held = await scrape(url);

  // Phase 2: load.
  tell(states, { type: 'start' });
  const loadStart = performance.now();
  let windowStart = 0;
  let lastAcks = 0;
  let lastT = loadStart;
  const loadTimer = setInterval(() => {
    const now = performance.now();
    const a = sum(states.map((s) => s.acks));
    const open = sum(states.map((s) => s.open));
    const e = sum(states.map((s) => s.errors));
    const rate = ((a - lastAcks) / (now - lastT)) * 1000;
    lastAcks = a;
    lastT = now;
    const phase = windowStart === 0 ? 'warm-up' : 'measure';
    const t = windowStart === 0 ? (now - loadStart) / 1000 : (now - windowStart) / 1000;
    progress(
      `[${phase}] ${t.toFixed(0)} s: ${Math.max(0, rate).toFixed(0)} acks/s, ${open} connections open` +
        `${e ? `, ${e} errors` : ''}, server RSS ${(rssBytes(pid) / 2 ** 20).toFixed(0)} MiB`,
    );
  }, 1000);
  await sleep(warmup * 1000);
  tell(states, { type: 'measure' });
  lastAcks = 0;
  windowStart = performance.now();
  const cpuBefore = {
    server: cpuSeconds(pid),
    load: sum(states.map((s) => cpuSeconds(s.child.pid))),
    serverWait: runQueueSeconds(pid),
  };
  // Read beside the window, not before it: a busy coordinator may answer late.
  const beforeP = scrape(url);
  const versionBeforeP = api<{ currentRound: number }>(url, 'GET', `/v1/federations/${fed.id}`);
  await sleep(duration * 1000);
  const cpuAfter = {
    server: cpuSeconds(pid),
    load: sum(states.map((s) => cpuSeconds(s.child.pid))),
    serverWait: runQueueSeconds(pid),
  };
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const reports = await collectReports(states);
  const before = await beforeP;
  const versionBefore = (await versionBeforeP).currentRound;
  clearInterval(loadTimer);
  const after = await scrape(url);
  const rssLoaded = rssBytes(pid);
  const rounds = (await listRounds(url, fed.id, versionBefore)).filter((r) => r.number >= versionBefore);
  progress(`[resume] dropping ${admitted} connections, then every participant resumes at once`);
  const resume = await resumeStorm(states, url, pid);
  note(
    `[resume] ${resume.resumed}/${admitted} resumed in ${resume.seconds} s` +
      (resume.failed ? `; failures: ${JSON.stringify(resume.failures)}` : ''),
  );

  // Results.
  const totalLat = sum(reports.map((r) => r.latencies.length));
  const lat = new Float64Array(totalLat);
  let o = 0;
  for (const r of reports) {
    lat.set(r.latencies, o);
    o += r.latencies.length;
  }
  lat.sort();
  const acks = sum(reports.map((r) => r.acks));
  const errors: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const closed = rounds.filter((r) => r.status === 'closed' && r.aggregationMs !== null);
  const aggMs = closed.map((r) => r.aggregationMs!).sort((a, b) => a - b);
  const aggCount = after.aggregationCount - before.aggregationCount;
  const aggregationMs =
    aggCount > 0 ? ((after.aggregationSum - before.aggregationSum) / aggCount) * 1000 : null;
  const openAtEnd = sum(reports.map((r) => r.open));
  const result = {
    connections: Math.min(openAtEnd, after.connections),
    connectionsRequested: connections,
    connectionsAdmitted: admitted,
    connectionsHeldBeforeLoad: held.connections,
    submitting,
    mode,
    bufferK: mode === 'async' ? bufferK : null,
    database: databaseUrl ? 'postgresql' : 'sqlite',
    durationSeconds: round1(windowSeconds),
    submissionsPerSec: round1(acks / windowSeconds),
    serverSubmissionsPerSec: round1((after.submissions - before.submissions) / windowSeconds),
    ackP50Ms: round1(percentile(lat, 50)),
    ackP90Ms: round1(percentile(lat, 90)),
    ackP99Ms: round1(percentile(lat, 99)),
    ackMaxMs: round1(lat.length ? lat[lat.length - 1]! : Number.NaN),
    aggregationMs: aggregationMs === null ? null : round3(aggregationMs),
    aggregationP50Ms: aggMs.length ? round3(percentile(Float64Array.from(aggMs), 50)) : null,
    aggregationMaxMs: aggMs.length ? round3(aggMs[aggMs.length - 1]!) : null,
    consensusVersions: aggCount,
    contributionsPerVersion: closed.length
      ? round1(sum(closed.map((r) => r.submissions)) / closed.length)
      : null,
    rssBytesPerConnection: Math.round((rssConnected - rssBefore) / Math.max(1, held.connections)),
    serverRssBytes: { beforeConnections: rssBefore, connectedIdle: rssConnected, underLoad: rssLoaded },
    connectSeconds: round1(connectSeconds),
    connectServerCpu: round3(connectServerCpu),
    /** Joins admitted per second while connecting (--connect-concurrency Hellos in flight). */
    joinAdmissionsPerSec: round1(admitted / connectSeconds),
    /** The reconnect storm: every participant resumes at once (phase 3). */
    resume,
    tasksReceivedBySubmitters: sum(reports.map((r) => r.tasks)),
    bytesReceivedByParticipantsPerSec: Math.round(sum(reports.map((r) => r.bytesReceived)) / windowSeconds),
    errors,
    connectFailures: failures,
    /** Cores' worth of CPU used during the window (1 = one core busy all the time). */
    serverCpu: round3((cpuAfter.server - cpuBefore.server) / windowSeconds),
    loadGeneratorCpu: round3((cpuAfter.load - cpuBefore.load) / windowSeconds),
    /** Fraction of the window the coordinator's main thread spent runnable but waiting for a CPU. */
    serverRunQueueWait: round3((cpuAfter.serverWait - cpuBefore.serverWait) / windowSeconds),
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
    wallSeconds: round1((Date.now() - started) / 1000),
  };
  return { result, states };
}

async function shutdown(): Promise<void> {
  for (const l of loaders) {
    if (l.connected) l.send({ type: 'close' } satisfies ParentMessage);
  }
  await sleep(300);
  for (const l of loaders) if (l.exitCode === null) l.kill('SIGKILL');
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  }
  if (!values['keep-data']) rmSync(dataDir, { recursive: true, force: true });
}

function print(r: Awaited<ReturnType<typeof run>>['result']): void {
  if (values.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const rows: [string, string][] = [
    ['concurrent connections held', `${r.connections} of ${r.connectionsRequested}`],
    ['submitting participants', `${r.submitting} (${r.mode}${r.bufferK ? `, bufferK ${r.bufferK}` : ''})`],
    ['submissions/s (acked)', `${r.submissionsPerSec} over ${r.durationSeconds} s`],
    ['ack latency p50 / p90 / p99 / max', `${r.ackP50Ms} / ${r.ackP90Ms} / ${r.ackP99Ms} / ${r.ackMaxMs} ms`],
    [
      'aggregation per consensus version',
      `${r.aggregationMs ?? '-'} ms mean (p50 ${r.aggregationP50Ms ?? '-'}, max ${r.aggregationMaxMs ?? '-'}) over ${r.consensusVersions} versions, ${r.contributionsPerVersion ?? '-'} contributions each`,
    ],
    [
      'memory per connection',
      `${(r.rssBytesPerConnection / 1024).toFixed(1)} KiB (server RSS delta / connections)`,
    ],
    [
      'server RSS',
      `${mib(r.serverRssBytes.beforeConnections)} → ${mib(r.serverRssBytes.connectedIdle)} connected → ${mib(r.serverRssBytes.underLoad)} under load`,
    ],
    [
      'join admissions/s',
      `${r.joinAdmissionsPerSec} (${r.connectionsAdmitted} in ${r.connectSeconds} s, ${concurrency} Hellos in flight; coordinator CPU ${r.connectServerCpu} cores)`,
    ],
    [
      'resume admissions/s (all at once)',
      `${r.resume.perSec} (${r.resume.resumed} of ${r.connectionsAdmitted} in ${r.resume.seconds} s; Hello→Welcome p50 / p99 / max ${r.resume.helloP50Ms} / ${r.resume.helloP99Ms} / ${r.resume.helloMaxMs} ms; ${r.resume.failed} failed${r.resume.failed ? ` ${JSON.stringify(r.resume.failures)}` : ''}; coordinator CPU ${r.resume.serverCpu} cores)`,
    ],
    ['errors', Object.keys(r.errors).length ? JSON.stringify(r.errors) : 'none'],
    ['database', r.database],
    [
      'CPU used (cores)',
      `coordinator ${r.serverCpu} (+ ${r.serverRunQueueWait} waiting for a CPU), load generators ${r.loadGeneratorCpu}`,
    ],
    ['load average (1/5/15 min)', r.loadAverage.join(' ')],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`);
}

const watchdog = setTimeout(
  () => {
    note('bench:server: overall time limit reached; stopping');
    void shutdown().finally(() => process.exit(1));
  },
  (duration + warmup + 900) * 1000,
);
watchdog.unref();

let exitCode = 0;
try {
  const { result } = await run();
  note('');
  print(result);
} catch (e) {
  note(`bench:server: ${e instanceof Error ? e.message : String(e)}`);
  exitCode = 1;
} finally {
  await shutdown();
}
process.exit(exitCode);
