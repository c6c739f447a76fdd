// Payload retention (--payload-retention-versions, engine/payload-retention.ts) through the
// coordinator's real interface: participants over WebSockets run enough rounds (sync) and
// versions (async) with a retention of 2 that old prediction payloads must be dropped. The
// database itself is read (its own connection, not the repositories): payloads older than
// the window are NULL, while the recent payloads and every metadata row (submissions,
// rounds, consensus versions) are still there; then the coordinator restarts on the same
// database, the participants resume, and the federation goes on (targets from the stored
// consensus, the next round closes, the window moves).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  createFederation,
  type DatabaseKind,
  describeEachDatabase,
  getJson,
  issueToken,
  startServer,
  type TestServer,
  until,
} from './helper.ts';
import { createPostgresDatabase } from './postgres.ts';
import { TestClient } from './test-client.ts';

const RETENTION = 2;
const WAIT_MS = 20_000;

interface StoredRow {
  round: number;
  participantId: string;
  hasPayload: boolean;
}

/** A database that outlives one coordinator, and SQL reads on it. */
interface Target {
  options: { dataDir: string; databaseUrl?: string };
  submissions(federationId: string): Promise<StoredRow[]>;
  rounds(federationId: string): Promise<number[]>;
  consensusVersions(federationId: string): Promise<number[]>;
  drop(): Promise<void>;
}

const SUBMISSIONS =
  'SELECT "roundNumber" AS round, "participantId" AS "participantId", (payload IS NOT NULL) AS "hasPayload" FROM "Submission" WHERE "federationId" = $1 ORDER BY "roundNumber", "participantId"';
const ROUNDS = 'SELECT number AS n FROM "Round" WHERE "federationId" = $1 ORDER BY number';
const CONSENSUS = 'SELECT version AS n FROM "Consensus" WHERE "federationId" = $1 ORDER BY version';

async function createTarget(kind: DatabaseKind): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mutua-retention-'));
  if (kind === 'sqlite') {
    const file = join(dataDir, 'mutua.db');
    const read = <T>(sql: string, federationId: string): T[] => {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql.replace('$1', '?')).all(federationId) as T[];
      } finally {
        db.close();
      }
    };
    return {
      options: { dataDir },
      submissions: async (id) =>
        read<StoredRow>(SUBMISSIONS, id).map((r) => ({ ...r, hasPayload: Boolean(r.hasPayload) })),
      rounds: async (id) => read<{ n: number }>(ROUNDS, id).map((r) => r.n),
      consensusVersions: async (id) => read<{ n: number }>(CONSENSUS, id).map((r) => r.n),
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const pgdb = await createPostgresDatabase();
  const read = async <T>(sql: string, federationId: string): Promise<T[]> => {
    const c = new pg.Client({ connectionString: pgdb.url });
    await c.connect();
    try {
      return (await c.query(sql, [federationId])).rows as T[];
    } finally {
      await c.end();
    }
  };
  return {
    options: { dataDir, databaseUrl: pgdb.url },
    submissions: (id) => read<StoredRow>(SUBMISSIONS, id),
    rounds: async (id) => (await read<{ n: number }>(ROUNDS, id)).map((r) => r.n),
    consensusVersions: async (id) => (await read<{ n: number }>(CONSENSUS, id)).map((r) => r.n),
    drop: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      await pgdb.drop();
    },
  };
}

interface Member {
  name: string;
  label: number;
  client: TestClient;
  resumeToken: string;
}

async function join2(t: TestContext, s: TestServer, federationId: string): Promise<Member[]> {
  const out: Member[] = [];
  for (const [label, name] of ['a', 'b'].entries()) {
    const { token } = await issueToken(s.app, federationId);
    const client = await TestClient.join(s.wsUrl, { joinToken: token, name });
    t.after(() => client.close());
    out.push({ name, label, client, resumeToken: client.welcome!.resumeToken! });
  }
  return out;
}

async function resume(t: TestContext, s: TestServer, members: Member[]): Promise<void> {
  for (const m of members) {
    const client = await TestClient.join(s.wsUrl, { resumeToken: m.resumeToken, name: m.name });
    t.after(() => client.close());
    assert.equal(client.welcome!.resumed, true, `${m.name} resumes`);
    m.client = client;
  }
}

/** The first task a resumed member is sent (left for completeRound to take). */
async function firstTask(m: Member, round: number) {
  const r = await m.client.next(
    (x) => x.body === 'task' && Number(x.envelope.task!.round) >= round,
    WAIT_MS,
    false,
  );
  return r.envelope.task!;
}

/** Both members complete rounds / versions from..to (inclusive), in lockstep. */
async function run(members: Member[], from: number, to: number): Promise<void> {
  for (let v = from; v <= to; ) {
    const done = await Promise.all(members.map((m) => m.client.completeRound(v, m.label)));
    assert.equal(done[0], done[1], 'both worked on the same round');
    v = done[0]! + 1;
  }
}

/** Round number → whether each stored submission of it still has its payload. */
function payloadMap(rows: StoredRow[]): Map<number, boolean[]> {
  const out = new Map<number, boolean[]>();
  for (const r of rows) out.set(r.round, [...(out.get(r.round) ?? []), r.hasPayload]);
  return out;
}

/**
 * Waits until every payload of a round below `keptFrom` is dropped while the coordinator
 * runs (the prune follows the publish, off the ack path), then closes it (shutdown waits
 * for a prune under way, so the last publish's prune has run) and asserts the exact
 * picture: rounds 1..last each still have both submissions, those >= keptFrom with their
 * payloads.
 */
async function assertRetained(
  s: TestServer,
  target: Target,
  federationId: string,
  keptFrom: number,
  last: number,
) {
  await until(
    async () => (await target.submissions(federationId)).every((r) => r.round >= keptFrom || !r.hasPayload),
    WAIT_MS,
  ).catch(() => undefined);
  await s.close();
  const map = payloadMap(await target.submissions(federationId));
  const expected = new Map<number, boolean[]>();
  for (let r = 1; r <= last; r++) expected.set(r, [r >= keptFrom, r >= keptFrom]);
  assert.deepEqual(
    map,
    expected,
    `payloads kept from round ${keptFrom} of 1..${last} (true = payload stored)`,
  );
}

describeEachDatabase('payload retention over real sockets (retention 2)', (database) => {
  it('sync: payloads of rounds outside the window are dropped, metadata and recent payloads stay, a restart goes on', async (t) => {
    const target = await createTarget(database);
    let s: TestServer | undefined;
    // The coordinator first (its close is idempotent), then its database.
    t.after(async () => {
      await s?.close();
      await target.drop();
    });
    const start = () => startServer(t, { database, ...target.options, payloadRetentionVersions: RETENTION });
    s = await start();
    const fed = await createFederation(s.app, { mode: 'sync' });
    const members = await join2(t, s, fed.id);

    await run(members, 1, 6);
    // Version 6 published: the window is rounds 5 and 6 (sync recovery needs none).
    const api = await getJson<{ number: number; submissions: number }[]>(
      s.app,
      `/v1/federations/${fed.id}/rounds`,
    );
    assert.deepEqual(
      api.filter((r) => r.number <= 6).map((r) => [r.number, r.submissions]),
      [1, 2, 3, 4, 5, 6].map((n) => [n, 2]),
      'the rounds API counts every submission, pruned or not',
    );
    await assertRetained(s, target, fed.id, 5, 6);
    assert.deepEqual(await target.rounds(fed.id), [1, 2, 3, 4, 5, 6, 7], 'every round row stays');
    assert.deepEqual(await target.consensusVersions(fed.id), [1, 2, 3, 4, 5, 6], 'consensus versions stay');

    // Restart on the same database: the participants resume, round 7's task carries
    // targets from the stored consensus, round 7 closes, and the window moves on.
    s = await start();
    await resume(t, s, members);
    const task = await firstTask(members[0]!, 7);
    assert.equal(Number(task.round), 7);
    assert.ok(task.targets, 'targets from the consensus stored before the restart');
    await run(members, 7, 7);
    await assertRetained(s, target, fed.id, 6, 7);
    assert.deepEqual(await target.consensusVersions(fed.id), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('async: versions outside max(retention, maxStaleness) lose their payloads, recovery still has what it reads', async (t) => {
    const target = await createTarget(database);
    let s: TestServer | undefined;
    // The coordinator first (its close is idempotent), then its database.
    t.after(async () => {
      await s?.close();
      await target.drop();
    });
    const maxStaleness = 3;
    const start = () => startServer(t, { database, ...target.options, payloadRetentionVersions: RETENTION });
    s = await start();
    const fed = await createFederation(s.app, {
      mode: 'async',
      async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness },
    });
    const members = await join2(t, s, fed.id);

    await run(members, 1, 8);
    // Version 8 published: recovery re-reads the last maxStaleness (3) versions, more
    // than the retention of 2, so versions 6..8 keep their payloads.
    await assertRetained(s, target, fed.id, 6, 8);
    assert.deepEqual(await target.rounds(fed.id), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'every version row stays');
    assert.deepEqual(
      await target.consensusVersions(fed.id),
      [1, 2, 3, 4, 5, 6, 7, 8],
      'consensus versions stay',
    );

    s = await start();
    await resume(t, s, members);
    const task = await firstTask(members[1]!, 9);
    assert.equal(Number(task.round), 9);
    assert.ok(task.targets, 'targets from the consensus stored before the restart');
    await run(members, 9, 10);
    const fedView = await getJson<{ currentRound: number; consensusVersion: number }>(
      s.app,
      `/v1/federations/${fed.id}`,
    );
    assert.deepEqual([fedView.currentRound, fedView.consensusVersion], [11, 10]);
    await assertRetained(s, target, fed.id, 8, 10);
    assert.deepEqual(await target.consensusVersions(fed.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
