/**
 * A coordinator cluster for tests and the cluster bench: N replicas (the bin, as operators
 * run it) on one PostgreSQL database and the NATS server at MUTUA_TEST_NATS_URL (default
 * nats://127.0.0.1:4222), behind HAProxy with the committed configuration
 * (deploy/haproxy/mutua-cluster.cfg). Replicas keep their port across a restart, so the
 * load balancer finds them again.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type ChildServer, REPO_ROOT, spawnServer } from './child-server.ts';
import { ADMIN_TOKEN } from './helper.ts';

export const NATS_URL = process.env.MUTUA_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const HAPROXY_CONFIG = join(REPO_ROOT, 'deploy/haproxy/mutua-cluster.cfg');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export function reachable(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.replace(/^nats:\/\//, '').split(':');
  return new Promise((resolve) => {
    const c = createConnection({ host, port: Number(port) });
    c.setTimeout(2000);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
    c.once('timeout', () => {
      c.destroy();
      resolve(false);
    });
  });
}

/** The haproxy binary; installed from Debian when missing and possible; null when neither. */
export function findHaproxy(): string | null {
  const known = ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'];
  const found = () => known.find((p) => existsSync(p)) ?? null;
  if (found()) return found();
  try {
    execFileSync('apt-get', ['install', '-y', 'haproxy'], { stdio: 'ignore', timeout: 120_000 });
  } catch {
    return null;
  }
  return found();
}

export interface Replica {
  name: string;
  port: number;
  server: ChildServer | null;
  /** Starts (or restarts) the replica on its port. */
  start(): Promise<ChildServer>;
}

export interface ClusterOptions {
  replicas: number;
  databaseUrl: string;
  leaseMs: number;
  logLevel?: string;
  /** Extra environment for every replica. */
  env?: Record<string, string>;
}

export async function startReplicas(t: TestContext | null, o: ClusterOptions): Promise<Replica[]> {
  const cluster = `t${process.pid}${Math.random().toString(36).slice(2, 6)}`;
  const replicas: Replica[] = [];
  for (let i = 1; i <= o.replicas; i++) {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), `mutua-replica-${i}-`));
    t?.after(() => rmSync(dataDir, { recursive: true, force: true }));
    let generation = 0;
    const r: Replica = {
      name: `r${i}`,
      port,
      server: null,
      async start() {
        generation++;
        r.server = await spawnServer(
          t,
          {
            args: ['--port', String(port), '--data-dir', dataDir],
            env: {
              DATABASE_URL: o.databaseUrl,
              NATS_URL: NATS_URL,
              MUTUA_CLUSTER_NAME: cluster,
              MUTUA_REPLICA_ID: `r${i}-${generation}`,
              MUTUA_LEASE_MS: String(o.leaseMs),
              MUTUA_ADMIN_TOKEN: ADMIN_TOKEN,
              LOG_LEVEL: o.logLevel ?? 'warn',
              ...o.env,
            },
          },
          90_000,
        );
        return r.server;
      },
    };
    replicas.push(r);
  }
  await Promise.all(replicas.map((r) => r.start()));
  return replicas;
}

export interface Balancer {
  url: string;
  child: ChildProcess;
  stop(): void;
}

/** HAProxy with the committed config in front of the replicas (their ports); stopped after the test. */
export async function startHaproxy(
  t: TestContext | null,
  bin: string,
  replicas: Replica[],
): Promise<Balancer> {
  const port = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    MUTUA_LB_BIND: `127.0.0.1:${port}`,
  };
  replicas.forEach((r, i) => {
    env[`MUTUA_R${i + 1}`] = `127.0.0.1:${r.port}`;
  });
  for (let i = replicas.length + 1; i <= 3; i++) env[`MUTUA_R${i}`] = `127.0.0.1:${replicas[0]!.port}`;
  const child = spawn(bin, ['-db', '-f', HAPROXY_CONFIG], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // Read, or HAProxy blocks on a full pipe once its log passes 64 KB; the tail goes into errors.
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-8192);
  });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  t?.after(stop);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, child, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  stop();
  throw new Error(`HAProxy did not route to a ready replica within 20 s\n${stderr}`);
}

/** Which federations each running replica owns now (from its /readyz). */
export async function owners(replicas: Replica[]): Promise<Map<string, string>> {
  const byFederation = new Map<string, string>();
  await Promise.all(
    replicas.map(async (r) => {
      if (!r.server?.running) return;
      const body = await r.server
        .fetch('/readyz')
        .then((res) => res.json() as Promise<{ owns: string[] }>)
        .catch(() => ({ owns: [] as string[] }));
      for (const f of body.owns) byFederation.set(f, r.name);
    }),
  );
  return byFederation;
}
