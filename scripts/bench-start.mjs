#!/usr/bin/env node
// `npm run bench:start`: how long the commands take to start, run from the TypeScript
// sources through tsx (as every start did before scripts/build.mjs) and from the built
// JavaScript (what the bins and the image run), side by side.
//
//   coordinator restart → listening: the embedded default (SQLite) on a data dir that
//     already exists, with an active federation to recover, from spawn to the
//     "listening on" line;
//   mutua-client --help: from spawn to exit.
//
// Each figure is the median of --runs runs (default 7), the variants interleaved so
// they share the machine's load. Wall time is what a user waits; CPU time (user + system,
// from /proc on Linux) is the work done, and varies less on a busy machine.
//
// Usage: npm run bench:start [-- --runs N] [--before DIR]
//   --before DIR  also time the bins of another checkout with its own node_modules, e.g. the
//                 commit before the build step: `git worktree add /tmp/before d31b059`,
//                 `npm ci` there, then `npm run bench:start -- --before /tmp/before`
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, before: { type: 'string' } },
});
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error(`bench:start: --runs must be a positive integer, got "${values.runs}"`);
  process.exit(2);
}
for (const f of ['server/dist/mutua-server.js', 'client-node/dist/mutua-client.js'])
  if (!existsSync(join(ROOT, f))) {
    console.error(`bench:start: ${f} is missing; run \`npm run build\` first`);
    process.exit(1);
  }

const ADMIN_TOKEN = 'bench-start-admin-token-0123456789';
const TSX = ['--import', 'tsx'];
const VARIANTS = {
  server: {
    tsx: [...TSX, 'server/src/main.ts'],
    built: ['server/bin/mutua-server.js'],
  },
  client: {
    tsx: [...TSX, 'client-node/src/cli.ts'],
    built: ['client-node/bin/mutua-client.js'],
  },
};
const before = values.before === undefined ? undefined : resolve(values.before);
if (before !== undefined) {
  VARIANTS.server.before = [join(before, 'server/bin/mutua-server.js')];
  VARIANTS.client.before = [join(before, 'client-node/bin/mutua-client.js')];
  for (const [bin] of [VARIANTS.server.before, VARIANTS.client.before])
    if (!existsSync(bin)) {
      console.error(`bench:start: --before ${values.before}: ${bin} is missing`);
      process.exit(2);
    }
}
const NAMES = before === undefined ? ['tsx', 'built'] : ['before', 'tsx', 'built'];
const HEADINGS = { before: `before (${values.before})`, tsx: 'tsx (sources)', built: 'built (dist)' };

/** Seconds per clock tick of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICK_S = 1 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100);

/** Fields of /proc/<pid>/stat after the command name: [2] is state, [11..14] utime stime cutime cstime. */
function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text
      .slice(text.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
  } catch {
    return null;
  }
}
const cpuOf = (pid) => {
  const s = procStat(pid);
  return s ? (s[11] + s[12]) * TICK_S * 1000 : Number.NaN;
};
/** CPU of this process's children that have exited and been waited for (libuv waits for every child). */
const childrenCpu = () => {
  const s = procStat('self');
  return s ? (s[13] + s[14]) * TICK_S * 1000 : Number.NaN;
};

function serverEnv(dataDir) {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (/^(PORT|HOST|DATABASE_URL|MUTUA_.*|NODE_OPTIONS)$/.test(k)) delete env[k];
  return { ...env, MUTUA_DATA_DIR: dataDir, MUTUA_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'warn' };
}

/** Starts the coordinator; resolves at its "listening on" line with the time and CPU spent so far. */
function startServer(args, dataDir) {
  const started = performance.now();
  const child = spawn(process.execPath, [...args, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: serverEnv(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.on('exit', r));
  let output = '';
  return new Promise((resolveStart, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d) => {
      output += d;
    });
    child.stdout.setEncoding('utf8').on('data', (d) => {
      output += d;
      const m = /mutua-server listening on (\S+)/.exec(output);
      if (!m) return;
      const wallMs = performance.now() - started;
      const cpuMs = cpuOf(child.pid);
      child.stdout.removeAllListeners('data');
      resolveStart({
        wallMs,
        cpuMs,
        url: m[1],
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((code) =>
      reject(new Error(`${args.join(' ')} exited (${code}) before listening\n${output}`)),
    );
  });
}

/** Runs `mutua-client --help` to completion. */
function clientHelp(args) {
  const cpuBefore = childrenCpu();
  const started = performance.now();
  const child = spawn(process.execPath, [...args, '--help'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
  });
  return new Promise((resolveRun, reject) => {
    child.on('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0 || !/--coordinator/.test(out))
        reject(new Error(`${args.join(' ')} --help failed (${code})`));
      // 'exit' fires once the child was waited for, so its CPU is in cutime/cstime now.
      else resolveRun({ wallMs, cpuMs: childrenCpu() - cpuBefore });
    });
  });
}

async function api(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const median = (xs) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => (Number.isNaN(ms) ? '   n/a' : `${(ms / 1000).toFixed(2)} s`.padStart(6));

const dataDir = mkdtempSync(join(tmpdir(), 'mutua-bench-start-'));
try {
  // The data dir a restart finds: migrated, with a synchronous and an asynchronous federation to recover.
  const first = await startServer(VARIANTS.server.built, dataDir);
  const publicSet = { dataset: 'mnist', split: 'test', offset: 0, count: 256 };
  const sync = await api(first.url, 'POST', '/v1/federations', { name: 'bench sync', publicSet });
  await api(first.url, 'POST', '/v1/federations', {
    name: 'bench async',
    publicSetId: sync.publicSet.id,
    settings: { mode: 'async' },
  });
  await first.stop();

  const load = loadavg()[0];
  const samples = {
    server: Object.fromEntries(NAMES.map((n) => [n, []])),
    client: Object.fromEntries(NAMES.map((n) => [n, []])),
  };
  for (let i = 0; i < RUNS; i++) {
    // Rotate which variant goes first, so none always runs right after another.
    const order = NAMES.map((_, k) => NAMES[(i + k) % NAMES.length]);
    for (const v of order) {
      const s = await startServer(VARIANTS.server[v], dataDir);
      await s.stop();
      samples.server[v].push(s);
    }
    for (const v of order) samples.client[v].push(await clientHelp(VARIANTS.client[v]));
  }

  const row = (label, what) => {
    const cell = (v) => {
      const xs = samples[what][v];
      return `${fmt(median(xs.map((x) => x.wallMs)))} (CPU ${fmt(median(xs.map((x) => x.cpuMs)))})`;
    };
    return `${label.padEnd(34)}${NAMES.map((v) => cell(v).padEnd(26)).join('')}`.trimEnd();
  };
  console.log(
    `start-up: median of ${RUNS} runs; node ${process.version}, ${cpus().length} CPUs, load average ${load.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
  );
  console.log(`${''.padEnd(34)}${NAMES.map((v) => HEADINGS[v].padEnd(26)).join('')}`.trimEnd());
  console.log(row('coordinator restart → listening', 'server'));
  console.log(row('mutua-client --help', 'client'));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
