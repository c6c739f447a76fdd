// Three coordinator replicas behind HAProxy, on PostgreSQL and NATS, with six mutua-client
// processes (three in a sync federation, three in an async one). SIGKILL a replica that
// owns nothing, then the owner of each federation mid-run, restarting each: ownership
// moves within the lease + 5 s to a restarted replica, the federations reach their planned
// rounds, round numbers stay continuous, and every upload a participant recorded as
// acknowledged (its --metrics-out) is in the database.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { ClientProcess } from '../../client-node/test/client-process.ts';
import { AdminClient } from '../src/admin-cli/client.ts';
import {
  findHaproxy,
  NATS_URL,
  owners,
  type Replica,
  reachable,
  startHaproxy,
  startReplicas,
} from './cluster-harness.ts';
import { ADMIN_TOKEN } from './helper.ts';
import { createPostgresDatabase } from './postgres.ts';

const LEASE_MS = 2000;
const SYNC_ROUNDS = 8;
const ASYNC_ROUNDS = 10;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const haproxy = findHaproxy();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Admin reads through the load balancer, every 100 ms, while replicas die: with the `mutua`
 * command's client (which sends a GET again after a 502/503/504 or a cut connection), and
 * counting what a bare fetch saw on its first attempt (HAProxy's own retries only).
 */
function adminReader(url: string, federationId: string) {
  const cli = new AdminClient(url, ADMIN_TOKEN);
  const failures: string[] = [];
  const firstAttempt: string[] = [];
  let reads = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await cli.getFederation(federationId).then(
        () => reads++,
        (err: Error) => failures.push(err.message),
      );
      await fetch(`${url}/v1/federations/${federationId}`, { headers: auth }).then(
        async (res) => {
          await res.arrayBuffer();
          if (!res.ok) firstAttempt.push(String(res.status));
        },
        (err: Error & { cause?: { code?: string } }) => firstAttempt.push(err.cause?.code ?? err.message),
      );
      await sleep(100);
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return { reads, failures, firstAttempt };
  };
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('coordinator cluster: three replicas behind HAProxy on PostgreSQL and NATS', () => {
  it('survives SIGKILL of a non-owner and of each owner, losing no acknowledged upload', {
    skip: !haproxy ? 'haproxy not found and `apt-get install -y haproxy` failed' : false,
    timeout: 240_000,
  }, async (t) => {
    assert.ok(
      await reachable(NATS_URL),
      `NATS with JetStream is not reachable at ${NATS_URL}; start nats-server -js`,
    );
    const db = await createPostgresDatabase();
    t.after(() => db.drop());
    const replicas = await startReplicas(t, { replicas: 3, databaseUrl: db.url, leaseMs: LEASE_MS });
    const lb = await startHaproxy(t, haproxy!, replicas);
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${lb.url}${path}`, {
        method,
        headers: auth,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const federation = async (name: string, settings: Record<string, unknown>) => {
      const f = await api<{ id: string }>('POST', '/v1/federations', {
        name,
        publicSet: { dataset: 'mnist', split: 'test', offset: 0, count: 64 },
        // minParticipants 1: the async participants finish at different rounds, and the
        // default gate (2) would hold the last one forever once the other two had left.
        settings: { batchSize: 16, recoveryGraceMs: 5000, minParticipants: 1, ...settings },
      });
      const tok = await api<{ token: string }>('POST', `/v1/federations/${f.id}/tokens`, { label: name });
      return { id: f.id, token: tok.token };
    };
    const sync = await federation('sync', { mode: 'sync', sync: { quorum: 0, minParticipants: 3 } });
    const async_ = await federation('async', { mode: 'async', async: { bufferK: 2, maxStaleness: 6 } });
    // Ownership spreads: two replicas own one federation each.
    const initial = await waitFor('both federations owned by two replicas', async () => {
      const o = await owners(replicas);
      return o.size === 2 && new Set(o.values()).size === 2 ? o : null;
    });

    const dir = mkdtempSync(join(tmpdir(), 'mutua-cluster-clients-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const clients = [sync, sync, sync, async_, async_, async_].map((f, i) => {
      const rounds = f === sync ? SYNC_ROUNDS : ASYNC_ROUNDS;
      const out = join(dir, `p${i}.jsonl`);
      const c = new ClientProcess(
        // biome-ignore format: one flag per pair
        ['--coordinator', lb.url, '--token', f.token, '--name', `p${i}`, '--data', 'builtin:mnist', '--limit', '200',
         '--model', 'mlp', '--epochs', '1', '--max-rounds', String(rounds), '--metrics-out', out,
         '--checkpoint-dir', join(dir, `ck${i}`), '--cache-dir', join(dir, 'cache'), '--quiet', '--connect-attempts', '30'],
        {},
      );
      t.after(() => c.child.kill('SIGKILL'));
      return { c, out, f };
    });
    const acked = (i: number) =>
      existsSync(clients[i]!.out)
        ? readFileSync(clients[i]!.out, 'utf8')
            .split('\n')
            .filter((l) => l.trim() && !l.includes('"event"'))
            .map((l) => JSON.parse(l) as { round: number; participant: string })
        : [];
    const progress = (f: { id: string }) =>
      Math.min(...clients.map((c, i) => (c.f === f ? acked(i).length : Number.POSITIVE_INFINITY)));

    // 1. A replica that owns nothing dies; its participants go back through HAProxy.
    await waitFor(
      'two acknowledged rounds everywhere',
      async () => progress(sync) >= 2 && progress(async_) >= 2,
      120_000,
    );
    // Every replica reports the cluster-wide online count (the owner's), not its own
    // sockets': HAProxy spread the six participants over the three replicas.
    const onlineAt = (r: Replica, id: string) =>
      fetch(`http://127.0.0.1:${r.port}/v1/federations/${id}`, { headers: auth })
        .then((res) => res.json() as Promise<{ participantsOnline: number }>)
        .then((v) => v.participantsOnline);
    const counts = await waitFor(
      'every replica to report three online per federation',
      async () => {
        const all = await Promise.all(replicas.flatMap((r) => [sync, async_].map((f) => onlineAt(r, f.id))));
        return all.every((n) => n === 3) ? all : null;
      },
      20_000,
    ).catch(async () => Promise.all(replicas.flatMap((r) => [sync, async_].map((f) => onlineAt(r, f.id)))));
    assert.deepEqual(counts, [3, 3, 3, 3, 3, 3], `participantsOnline per replica × federation: ${counts}`);
    const idle = replicas.find((r) => ![...initial.values()].includes(r.name))!;
    idle.server!.child.kill('SIGKILL');
    await idle.server!.exited;
    const before = progress(sync);
    await idle.start();
    await waitFor('sync progress after the non-owner died', async () => progress(sync) >= before + 1, 90_000);

    // 2. The owner of each federation dies in the middle of a run; a replica with no
    //    federation (a restarted one) takes over within the lease + 5 s.
    const takeovers: number[] = [];
    const stopReading = adminReader(lb.url, sync.id);
    for (const f of [sync, async_]) {
      const ownerName = (await owners(replicas)).get(f.id)!;
      const owner = replicas.find((r) => r.name === ownerName)!;
      const killedAt = Date.now();
      owner.server!.child.kill('SIGKILL');
      await owner.server!.exited;
      const next = await waitFor(`a new owner for ${f.id}`, async () => {
        const o = (await owners(replicas)).get(f.id);
        return o && o !== ownerName ? o : null;
      });
      const seconds = (Date.now() - killedAt) / 1000;
      takeovers.push(seconds);
      assert.ok(seconds <= (LEASE_MS + 5000) / 1000, `took over after ${seconds} s (lease ${LEASE_MS} ms)`);
      assert.notEqual(next, ownerName);
      await owner.start();
    }
    // Admin reads through HAProxy kept succeeding while the owners died.
    const reading = await stopReading();
    assert.deepEqual(
      reading.failures,
      [],
      `admin GETs failed during the SIGKILLs (${reading.reads} succeeded)`,
    );
    assert.ok(reading.reads > 0);
    t.diagnostic(
      `admin GETs through HAProxy during the owner kills: ${reading.reads} ok; a bare fetch failed ${reading.firstAttempt.length} times (${reading.firstAttempt.join(', ')})`,
    );
    // Restarted replicas rejoined and own a share again (2 federations over 3 replicas: 1 each at most).
    const final = await waitFor('ownership spread after the restarts', async () => {
      const o = await owners(replicas);
      return o.size === 2 && new Set(o.values()).size === 2 ? o : null;
    });
    assert.equal(final.size, 2);

    // 3. Every participant reaches its planned rounds and leaves.
    for (const { c } of clients) {
      const exit = await c.exited;
      assert.equal(exit.code, 0, `client exited ${exit.code}\n${exit.stderr.slice(-2000)}`);
    }
    const sql = new pg.Client({ connectionString: db.url });
    sql.on('error', () => undefined); // the database is dropped after the test
    await sql.connect();
    for (const [i, { f }] of clients.entries()) {
      const lines = acked(i);
      assert.equal(lines.length, f === sync ? SYNC_ROUNDS : ASYNC_ROUNDS, `p${i} acknowledged rounds`);
      const { rows } = await sql.query(
        'SELECT "roundNumber" AS n FROM "Submission" WHERE "federationId" = $1 AND "participantId" = $2',
        [f.id, lines[0]!.participant],
      );
      const stored = new Set(rows.map((r: { n: number }) => r.n));
      for (const l of lines)
        assert.ok(stored.has(l.round), `p${i}'s acknowledged upload for round ${l.round} is stored`);
    }
    for (const f of [sync, async_]) {
      const { rows } = await sql.query(
        'SELECT number FROM "Round" WHERE "federationId" = $1 ORDER BY number',
        [f.id],
      );
      const numbers = rows.map((r: { number: number }) => r.number);
      assert.deepEqual(
        numbers,
        numbers.map((_: number, k: number) => k + 1),
        'round numbers are continuous',
      );
      const c = await sql.query(
        'SELECT version FROM "Consensus" WHERE "federationId" = $1 ORDER BY version',
        [f.id],
      );
      const versions = c.rows.map((r: { version: number }) => r.version);
      assert.ok(
        versions.length >= (f === sync ? SYNC_ROUNDS - 1 : 3),
        `consensus versions published: ${versions}`,
      );
      assert.equal(new Set(versions).size, versions.length, 'no consensus version published twice');
    }
    t.diagnostic(
      `takeover after SIGKILL (lease ${LEASE_MS} ms): ${takeovers.map((s) => s.toFixed(1)).join(' s, ')} s`,
    );
    lb.stop();
    await Promise.all(replicas.map((r: Replica) => r.server?.stop('SIGTERM').catch(() => undefined)));
  });
});
