/**
 * npm run bench:cluster [-- --json] [--connections N] [--seconds S] [--replicas 1,2,3]
 *
 * The coordinator cluster under load, for 1, 2 and 3 replicas side by side: each run
 * gets a fresh PostgreSQL database (MUTUA_TEST_POSTGRES_URL's server), the NATS server at
 * MUTUA_TEST_NATS_URL, HAProxy with deploy/haproxy/mutua-cluster.cfg, one async federation,
 * and the load generators of bench:server (load-generator.ts: protocol-level participants
 * answering every Task with a 512x10 uint8 upload, no training) connected through HAProxy.
 * Then (2+ replicas), under FAILOVER_CONNECTIONS fresh participants that reconnect with
 * their resume tokens when their replica dies (as mutua-client does), the federation's
 * owner is killed with SIGKILL.
 *
 * Fields per replica count: replicas, connections, submissionsPerSec, ackP50Ms, ackP99Ms,
 * failoverSeconds (from the lease's expiry, the dead owner's last renewal in the KV bucket
 * + the lease, to the first consensus version stored after the kill, by the new owner;
 * null for 1 replica, or if none came within 30 s: then the last rounds and the replicas'
 * logs go to a file in the temp directory; MUTUA_BENCH_LOG_LEVEL=info logs more),
 * leaseTakenSeconds (expiry to the new owner's lease entry; both on the NATS server's
 * clock), cpuMsPerSubmission
 * (CPU of every replica together per acknowledged upload) and natsBytesPerSubmission
 * (bytes the replicas published on NATS per acknowledged upload). Load generators, HAProxy,
 * PostgreSQL and NATS share the machine with the replicas.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { findHaproxy, NATS_URL, type Replica, startHaproxy, startReplicas } from '../test/cluster-harness.ts';
import { ADMIN_TOKEN } from '../test/helper.ts';
import { createPostgresDatabase } from '../test/postgres.ts';
import type { ChildMessage, LoadConfig, ParentMessage, Report } from './load-generator.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    connections: { type: 'string' },
    seconds: { type: 'string' },
    replicas: { type: 'string' },
    aggregation: { type: 'string' },
  },
});
/** The federation's aggregation (default: the coordinator's, 'agreement'). */
const AGGREGATION = values.aggregation;
const CONNECTIONS = Number(values.connections ?? 200);
const SECONDS = Number(values.seconds ?? 10);
const LEASE_MS = 2000;
const FAILOVER_CONNECTIONS = 60;
/** The replicas' log level (MUTUA_BENCH_LOG_LEVEL, default warn); their logs are written out when a failover stalls. */
const LOG_LEVEL = process.env.MUTUA_BENCH_LOG_LEVEL ?? 'warn';
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

function loader(
  wsUrl: string,
  joinToken: string,
  prefix: string,
  connections: number,
  reconnectMs?: number,
): Loader {
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
    ...(reconnectMs === undefined ? {} : { reconnectMs }),
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

/**
 * SIGKILLs the federation's owner under fresh load and times the takeover: from the dead
 * owner's lease expiring (its last renewal + the lease, on the NATS server's clock) to the
 * new owner's entry, and to the first consensus version stored after the kill.
 */
async function failover(
  replicas: Replica[],
  cluster: string,
  federationId: string,
  dbUrl: string,
  startLoad: () => Promise<() => void>,
): Promise<{ failoverSeconds: number | null; leaseTakenSeconds: number | null }> {
  const nc = await connect({ servers: NATS_URL.replace(/^nats:\/\//, '') });
  const kv = await new Kvm(nc).open(`${cluster}-leases`);
  const key = `fed-${federationId}`;
  const sql = new pg.Client({ connectionString: dbUrl });
  await sql.connect();
  const stopLoad = await startLoad();
  try {
    await sleep(2000);
    const held = await kv.get(key);
    const ownerId = held?.operation === 'PUT' ? held.string() : '';
    const owner = replicas.find((r) => ownerId.startsWith(`${r.name}-`));
    if (!owner) throw new Error(`no owner in the lease bucket (${ownerId})`);
    owner.server!.child.kill('SIGKILL');
    await owner.server!.exited;
    // Versions from here on are the new owner's: the old one can store nothing once dead
    // (one whose write was in flight at the kill has a creation time before this).
    const killedAt = new Date();
    const before = await sql.query(
      'SELECT coalesce(max(version), 0) AS v FROM "Consensus" WHERE "federationId" = $1',
      [federationId],
    );
    // No renewal after the kill: the entry read now is the dead owner's last one.
    // (Were it gone already, the one read before the kill: an expiry up to a renewal early.)
    const last = await kv.get(key);
    const final = last?.operation === 'PUT' && last.string() === ownerId ? last : held!;
    const expiry = final.created.getTime() + LEASE_MS;
    let leaseTakenSeconds: number | null = null;
    for (let i = 0; i < 300; i++) {
      await sleep(100);
      const e = await kv.get(key);
      if (leaseTakenSeconds === null && e?.operation === 'PUT' && e.string() !== ownerId)
        leaseTakenSeconds = r1((e.created.getTime() - expiry) / 1000);
      const { rows } = await sql.query(
        'SELECT min("createdAt") AS at FROM "Consensus" WHERE "federationId" = $1 AND version > $2 AND "createdAt" > $3',
        [federationId, before.rows[0].v, killedAt],
      );
      if (rows[0]?.at)
        return { failoverSeconds: r1((new Date(rows[0].at).getTime() - expiry) / 1000), leaseTakenSeconds };
    }
    const file = join(tmpdir(), `bench-cluster-failover-${federationId}.log`);
    const rounds = await sql.query(
      `SELECT r.number, r.status, r."closeReason", r."openedAt", r."closedAt",
              count(s.id)::int AS submissions, min(s."receivedAt") AS first, max(s."receivedAt") AS last
         FROM "Round" r LEFT JOIN "Submission" s ON s."federationId" = r."federationId" AND s."roundNumber" = r.number
        WHERE r."federationId" = $1 GROUP BY r.number ORDER BY r.number DESC LIMIT 5`,
      [federationId],
    );
    const state = `killed at ${killedAt.toISOString()}\n${JSON.stringify(rounds.rows, null, 1)}`;
    writeFileSync(file, [state, ...replicas.map((r) => `=== ${r.name}\n${r.server?.log ?? ''}`)].join('\n'));
    log(`no version within 30 s of the kill; the replicas' logs are in ${file}`);
    return { failoverSeconds: null, leaseTakenSeconds };
  } finally {
    stopLoad();
    await sql.end();
    await nc.close();
  }
}

async function runOnce(replicaCount: number, haproxy: string) {
  const db = await createPostgresDatabase();
  const cluster = `bench${process.pid}r${replicaCount}`;
  const replicas = await startReplicas(null, {
    replicas: replicaCount,
    databaseUrl: db.url,
    leaseMs: LEASE_MS,
    logLevel: LOG_LEVEL,
    env: { MUTUA_MAX_MESSAGES_PER_SECOND: '1000', MUTUA_CLUSTER_NAME: cluster },
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
      ...(AGGREGATION ? { aggregation: AGGREGATION } : {}),
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
  const probe =
    replicaCount > 1
      ? await failover(replicas, cluster, fed.id, db.url, async () => {
          const fresh = loader(wsUrl, token, 'f0', FAILOVER_CONNECTIONS, 250);
          await fresh.connected;
          fresh.child.send({ type: 'start' } satisfies ParentMessage);
          return () => fresh.child.kill();
        })
      : { failoverSeconds: null, leaseTakenSeconds: null };
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
    ...probe,
    cpuMsPerSubmission: acks ? Math.round(((cpu1 - cpu0) * 1000 * 100) / acks) / 100 : null,
    natsBytesPerSubmission: acks ? Math.round((bus1 - bus0) / acks) : null,
  };
}

const haproxy = findHaproxy();
if (!haproxy) throw new Error('bench:cluster needs haproxy (apt-get install -y haproxy)');
const results = [];
for (const n of (values.replicas ?? '1,2,3').split(',').map(Number)) {
  log(`${n} replica(s)…`);
  results.push(await runOnce(n, haproxy));
}
if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else console.table(results);
process.exit(0);
