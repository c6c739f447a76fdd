/**
 * npm run bench:cluster [-- --json] [--connections N] [--seconds S]
 *
 * The coordinator cluster under load, for 1, 2 and 3 replicas side by side: each run
 * gets a fresh PostgreSQL database (MUTUA_TEST_POSTGRES_URL's server), the NATS server at
 * MUTUA_TEST_NATS_URL, HAProxy with deploy/haproxy/mutua-cluster.cfg, one async federation,
 * and the load generators of bench:server (load-generator.ts: protocol-level participants
 * answering every Task with a 512x10 uint8 upload, no training) connected through HAProxy.
 * Then, with fresh load, the federation's owner is killed with SIGKILL (2+ replicas).
 *
 * Fields per replica count: replicas, connections, submissionsPerSec, ackP50Ms, ackP99Ms,
 * failoverSeconds (from the lease's expiry, taken as kill time + lease, to the first
 * consensus version stored by the new owner; null for 1 replica), cpuMsPerSubmission
 * (CPU of every replica together per acknowledged upload) and natsBytesPerSubmission
 * (bytes the replicas published on NATS per acknowledged upload). Load generators, HAProxy,
 * PostgreSQL and NATS share the machine with the replicas.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { findHaproxy, owners, type Replica, startHaproxy, startReplicas } from '../test/cluster-harness.ts';
import { ADMIN_TOKEN } from '../test/helper.ts';
import { createPostgresDatabase } from '../test/postgres.ts';
import type { ChildMessage, LoadConfig, ParentMessage, Report } from './load-generator.ts';

const { values } = parseArgs({
  options: { json: { type: 'boolean' }, connections: { type: 'string' }, seconds: { type: 'string' } },
});
const CONNECTIONS = Number(values.connections ?? 200);
const SECONDS = Number(values.seconds ?? 10);
const LEASE_MS = 2000;
const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`bench:cluster: ${s}\n`);

function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

async function busBytes(replicas: Replica[]): Promise<number> {
  let total = 0;
  for (const r of replicas) {
    const text = await r.server!.fetch('/metrics').then((res) => res.text());
    const m = /^mutua_bus_bytes_published_total\{[^}]*\} (\d+)/m.exec(text);
    total += Number(m?.[1] ?? 0);
  }
  return total;
}

interface Loader {
  child: ChildProcess;
  connected: Promise<void>;
  report(): Promise<Report>;
}

function loader(wsUrl: string, joinToken: string, prefix: string, connections: number): Loader {
  const child = fork(join(here, 'load-generator.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const config: LoadConfig = {
    wsUrl,
    joinToken,
    prefix,
    connections,
    submitters: connections,
    concurrency: 20,
    thinkMs: 50,
  };
  child.send({ type: 'config', config } satisfies ParentMessage);
  const connected = new Promise<void>((resolve, reject) => {
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'connected') resolve();
      if (m.type === 'fatal') reject(new Error(m.message));
    });
  });
  return {
    child,
    connected,
    report: () =>
      new Promise<Report>((resolve) => {
        child.on('message', (m: ChildMessage) => {
          if (m.type === 'report') resolve(m);
        });
        child.send({ type: 'stop' } satisfies ParentMessage);
      }),
  };
}

const pct = (s: number[], p: number) =>
  s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
const r1 = (x: number) => Math.round(x * 10) / 10;

async function runOnce(replicaCount: number, haproxy: string) {
  const db = await createPostgresDatabase();
  const replicas = await startReplicas(null, {
    replicas: replicaCount,
    databaseUrl: db.url,
    leaseMs: LEASE_MS,
    env: { MUTUA_MAX_MESSAGES_PER_SECOND: '1000' },
  });
  const lb = await startHaproxy(null, haproxy, replicas);
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const post = async <T>(path: string, body: unknown) =>
    (await (
      await fetch(`${replicas[0]!.server!.url}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      })
    ).json()) as T;
  const fed = await post<{ id: string }>('/v1/federations', {
    name: 'bench',
    publicSet: { dataset: 'mnist', split: 'test', offset: 0, count: 10000 },
    settings: {
      mode: 'async',
      batchSize: 512,
      encodings: ['uint8'],
      participantLimit: 100_000,
      async: { bufferK: 25, maxStaleness: 8 },
    },
  });
  const { token } = await post<{ token: string }>(`/v1/federations/${fed.id}/tokens`, { label: 'bench' });
  const wsUrl = `${lb.url.replace(/^http/, 'ws')}/v1/ws`;
  const loaders = [0, 1].map((w) => loader(wsUrl, token, `w${w}`, CONNECTIONS / 2));
  await Promise.all(loaders.map((l) => l.connected));
  for (const l of loaders) l.child.send({ type: 'start' } satisfies ParentMessage);
  await sleep(3000);
  for (const l of loaders) l.child.send({ type: 'measure' } satisfies ParentMessage);
  const pids = replicas.map((r) => r.server!.pid);
  const cpu0 = pids.reduce((a, p) => a + cpuSeconds(p), 0);
  const bus0 = await busBytes(replicas);
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const reports = await Promise.all(loaders.map((l) => l.report()));
  const window = (performance.now() - t0) / 1000;
  const cpu1 = pids.reduce((a, p) => a + cpuSeconds(p), 0);
  const bus1 = await busBytes(replicas);
  for (const l of loaders) l.child.kill();
  const acks = reports.reduce((a, r) => a + r.acks, 0);
  const lat = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
  let failoverSeconds: number | null = null;
  if (replicaCount > 1) {
    const fresh = [0].map((w) => loader(wsUrl, token, `f${w}`, 50));
    await Promise.all(fresh.map((l) => l.connected));
    for (const l of fresh) l.child.send({ type: 'start' } satisfies ParentMessage);
    await sleep(2000);
    const ownerName = (await owners(replicas)).get(fed.id);
    const owner = replicas.find((r) => r.name === ownerName)!;
    const killedAt = Date.now();
    owner.server!.child.kill('SIGKILL');
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    for (let i = 0; i < 150 && failoverSeconds === null; i++) {
      await sleep(200);
      const { rows } = await sql.query(
        'SELECT min("createdAt") AS at FROM "Consensus" WHERE "federationId" = $1 AND "createdAt" > $2',
        [fed.id, new Date(killedAt)],
      );
      if (rows[0]?.at) failoverSeconds = r1((new Date(rows[0].at).getTime() - (killedAt + LEASE_MS)) / 1000);
    }
    await sql.end();
    for (const l of fresh) l.child.kill();
  }
  lb.stop();
  for (const r of replicas) r.server?.child.kill('SIGKILL');
  await sleep(500);
  await db.drop().catch(() => undefined);
  return {
    replicas: replicaCount,
    connections: CONNECTIONS,
    submissionsPerSec: Math.round(acks / window),
    ackP50Ms: r1(pct(lat, 50)),
    ackP99Ms: r1(pct(lat, 99)),
    failoverSeconds,
    cpuMsPerSubmission: acks ? Math.round(((cpu1 - cpu0) * 1000 * 100) / acks) / 100 : null,
    natsBytesPerSubmission: acks ? Math.round((bus1 - bus0) / acks) : null,
  };
}

const haproxy = findHaproxy();
if (!haproxy) throw new Error('bench:cluster needs haproxy (apt-get install -y haproxy)');
const results = [];
for (const n of [1, 2, 3]) {
  log(`${n} replica(s)…`);
  results.push(await runOnce(n, haproxy));
}
if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else console.table(results);
process.exit(0);
