// One repository suite, run against SQLite (temp dir) and PostgreSQL (a fresh database on
// 127.0.0.1:5432, dropped afterwards). PostgreSQL unreachable fails the run unless
// MUTUA_SKIP_POSTGRES=1; MUTUA_TEST_POSTGRES_URL points at another server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  createToken,
  type Db,
  DbError,
  hashToken,
  isUsable,
  migrateDatabase,
  type OpenDatabaseOptions,
  openDatabase,
  sha256Hex,
} from '../src/db/index.ts';

const POSTGRES_ADMIN_URL =
  process.env.MUTUA_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const SKIP_POSTGRES = process.env.MUTUA_SKIP_POSTGRES === '1';

interface Target {
  options: Pick<OpenDatabaseOptions, 'databaseUrl' | 'dataDir'>;
  teardown(): Promise<void>;
}

interface Backend {
  name: 'sqlite' | 'postgres';
  skip: string | false;
  create(): Promise<Target>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    skip: false,
    async create() {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'mutua-persistence-'));
      return {
        options: { dataDir: path.join(dataDir, 'nested', 'data') },
        teardown: async () => rmSync(dataDir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    skip: SKIP_POSTGRES ? 'MUTUA_SKIP_POSTGRES=1' : false,
    async create() {
      const name = `mutua_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5000 });
      try {
        await admin.connect();
      } catch (e) {
        throw new Error(
          `PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable (${(e as Error).message}); start it, or set MUTUA_SKIP_POSTGRES=1`,
        );
      }
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.end();
      }
      return {
        options: { databaseUrl: withDatabase(POSTGRES_ADMIN_URL, name), dataDir: tmpdir() },
        async teardown() {
          const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
          await c.connect();
          try {
            await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          } finally {
            await c.end();
          }
        },
      };
    },
  },
];

const SETTINGS = {
  task: { inputShape: [28, 28, 1], numClasses: 10, labelNames: ['zero', 'one'] },
  strategy: 'mutual',
  mode: 'async',
  temperature: 3,
  lambda: 0.5,
  async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 8 },
};

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof DbError && e.code === code);
}

/**
 * A child process records one submission, prints ACK once record() resolved, and is
 * killed with SIGKILL right then: the acknowledged write must be there afterwards.
 */
function recordInChildThenKill(
  options: Target['options'],
  submission: Record<string, unknown>,
): Promise<void> {
  const dbModule = new URL('../src/db/index.ts', import.meta.url).href;
  const code = `
    import { openDatabase } from ${JSON.stringify(dbModule)};
    const input = JSON.parse(process.env.MUTUA_CHILD_INPUT);
    const db = await openDatabase(JSON.parse(process.env.MUTUA_CHILD_OPTIONS));
    await db.submissions.record({ ...input, payload: Uint8Array.from(input.payload) });
    process.stdout.write('ACK\\n');
    setInterval(() => {}, 1000);
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      env: {
        ...process.env,
        MUTUA_CHILD_OPTIONS: JSON.stringify(options),
        MUTUA_CHILD_INPUT: JSON.stringify(submission),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.on('data', (d) => {
      if (String(d).includes('ACK')) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`child exited without acknowledging: ${stderr}`));
    });
  });
}

for (const backend of backends) {
  describe(`persistence on ${backend.name}`, { skip: backend.skip }, () => {
    let target: Target;
    let db: Db;
    // Built up by the tests below, in order, and looked for again after reopening.
    const state = {
      federationId: '',
      publicSetId: '',
      publicSetData: bytes(4096, 1),
      joinToken: createToken('mj_'),
      resume: createToken('mr_'),
      participantId: '',
      otherParticipantId: '',
      indices: Uint32Array.from([0, 1, 7, 65_535, 65_536, 4_294_967_295]),
      payload: bytes(512 * 10, 3),
      consensus: bytes(512 * 10 * 2, 5),
    };

    // A setup failure (PostgreSQL down) is ONE failing test below; the rest skip, not cancel.
    let setupError: unknown;
    before(async () => {
      try {
        target = await backend.create();
        db = await openDatabase(target.options);
      } catch (e) {
        setupError = e;
      }
    });

    after(async () => {
      await db?.close();
      await target?.teardown();
    });

    const test = (name: string, fn: () => Promise<void>) =>
      it(name, async (t) => {
        if (setupError) return t.skip('the database could not be opened');
        await fn();
      });

    it(`opens the ${backend.name} database`, () => {
      if (setupError) throw setupError;
    });

    test('migrates a fresh database, and opening it again applies nothing', async () => {
      assert.equal(db.provider, backend.name);
      assert.ok(db.migrations.applied.length >= 1, 'the first open applies the migrations');
      assert.deepEqual(db.migrations.alreadyApplied, []);
      const again = await migrateDatabase(target.options);
      assert.deepEqual(again.applied, []);
      assert.deepEqual(again.alreadyApplied, db.migrations.applied);
      const second = await openDatabase(target.options);
      try {
        assert.deepEqual(second.migrations.applied, []);
        await second.ping();
      } finally {
        await second.close();
      }
    });

    test('federations: create, get, list, update, pause and soft-delete', async () => {
      const { publicSet, created } = await db.publicSets.put({
        data: state.publicSetData,
        sampleCount: 16,
        shape: [16, 16, 1],
        format: 'mutua-public-v1',
        source: 'test:bytes',
      });
      assert.equal(created, true);
      state.publicSetId = publicSet.id;

      const f = await db.federations.create({
        name: 'mnist digits',
        settings: SETTINGS,
        publicSetId: publicSet.id,
      });
      state.federationId = f.id;
      assert.equal(f.status, 'active');
      assert.equal(f.currentRound, 0);
      assert.equal(f.consensusVersion, 0);
      assert.deepEqual(f.settings, SETTINGS);
      assert.equal(f.publicSetId, publicSet.id);

      const doomed = await db.federations.create({ name: 'doomed', settings: { mode: 'sync' } });
      const paused = await db.federations.setStatus(doomed.id, 'paused');
      assert.equal(paused.status, 'paused');
      const deleted = await db.federations.setStatus(doomed.id, 'deleted');
      assert.ok(deleted.deletedAt instanceof Date);
      assert.deepEqual(
        (await db.federations.list()).map((x) => x.id),
        [f.id],
      );
      assert.equal((await db.federations.list({ includeDeleted: true })).length, 2);

      assert.equal(await db.federations.get('no-such-id'), null);
      await rejectsWith(
        db.federations.create({ name: 'x', settings: {}, publicSetId: 'f'.repeat(64) }),
        'MUTUA_ERR_DB_NOT_FOUND',
      );
    });

    test('public sets: content-addressed, idempotent, bytes round trip', async () => {
      assert.equal(state.publicSetId, sha256Hex(state.publicSetData));
      const again = await db.publicSets.put({
        data: state.publicSetData,
        sampleCount: 16,
        shape: [16, 16, 1],
        format: 'mutua-public-v1',
        source: 'second upload',
      });
      assert.equal(again.created, false);
      assert.equal(again.publicSet.source, 'test:bytes');
      const meta = await db.publicSets.get(state.publicSetId);
      assert.deepEqual(meta?.shape, [16, 16, 1]);
      assert.equal(meta?.byteLength, 4096);
      assert.deepEqual(await db.publicSets.getData(state.publicSetId), state.publicSetData);
      assert.equal((await db.publicSets.list()).length, 1);
    });

    test('join tokens: stored and found by hash only, revoked, expired', async () => {
      const t = await db.joinTokens.create({
        federationId: state.federationId,
        tokenHash: state.joinToken.hash,
        label: 'lab A',
      });
      assert.notEqual(t.tokenHash, state.joinToken.token);
      const found = await db.joinTokens.findByHash(hashToken(state.joinToken.token));
      assert.equal(found?.id, t.id);
      assert.ok(found && isUsable(found));

      const expiring = createToken();
      const e = await db.joinTokens.create({
        federationId: state.federationId,
        tokenHash: expiring.hash,
        expiresAt: new Date(Date.now() - 1000),
      });
      assert.equal(isUsable(e), false);

      const revokedToken = createToken();
      const r = await db.joinTokens.create({
        federationId: state.federationId,
        tokenHash: revokedToken.hash,
      });
      const revoked = await db.joinTokens.revoke(r.id, new Date('2030-01-01T00:00:00Z'));
      assert.equal(revoked?.revokedAt?.toISOString(), '2030-01-01T00:00:00.000Z');
      const twice = await db.joinTokens.revoke(r.id);
      assert.equal(
        twice?.revokedAt?.toISOString(),
        '2030-01-01T00:00:00.000Z',
        'the first revocation time stays',
      );
      assert.equal(isUsable((await db.joinTokens.findByHash(revokedToken.hash))!), false);
      assert.equal(await db.joinTokens.revoke('no-such-id'), null);
      assert.equal(await db.joinTokens.findByHash(hashToken('never issued')), null);
      assert.equal((await db.joinTokens.listForFederation(state.federationId)).length, 3);
      await rejectsWith(
        db.joinTokens.create({ federationId: state.federationId, tokenHash: state.joinToken.hash }),
        'MUTUA_ERR_DB_CONFLICT',
      );
      assert.throws(
        () => db.joinTokens.create({ federationId: state.federationId, tokenHash: 'plain-token' }),
        (err: unknown) => err instanceof DbError && err.code === 'MUTUA_ERR_DB_INVALID',
      );
    });

    test('participants: resume token hash, traffic counters, totals, removal', async () => {
      const joinToken = await db.joinTokens.findByHash(state.joinToken.hash);
      const p = await db.participants.create({
        federationId: state.federationId,
        joinTokenId: joinToken!.id,
        name: 'edge-1',
        kind: 'node',
        modelArch: 'cnn-small',
        resumeTokenHash: state.resume.hash,
      });
      state.participantId = p.id;
      assert.equal(p.bytesIn, 0);
      const other = await db.participants.create({
        federationId: state.federationId,
        name: 'browser-1',
        kind: 'browser',
        resumeTokenHash: createToken().hash,
      });
      state.otherParticipantId = other.id;

      assert.equal(
        (await db.participants.findManyByResumeTokenHashes([hashToken(state.resume.token)]))[0]?.id,
        p.id,
      );
      // Concurrent increments must all land (one UPDATE ... SET x = x + n each).
      await Promise.all(
        Array.from({ length: 20 }, () =>
          db.participants.addTrafficMany([{ id: p.id, bytesIn: 5_000_000_000, bytesOut: 3 }]),
        ),
      );
      const seen = new Date('2031-05-05T05:05:05.123Z');
      assert.equal(await db.participants.touchMany([p.id], seen), 1);
      const got = await db.participants.get(p.id);
      assert.equal(got?.bytesIn, 100_000_000_000, 'beyond 32 bits');
      assert.equal(got?.bytesOut, 60);
      assert.equal(got?.lastSeenAt.toISOString(), seen.toISOString());
      await db.participants.addTrafficMany([{ id: other.id, bytesIn: 1, bytesOut: 2 }]);
      assert.equal(await db.participants.addTrafficMany([{ id: 'no-such-id', bytesIn: 1, bytesOut: 1 }]), 0);
      const flushedAt = new Date('2031-06-06T06:06:06.006Z');
      const updated = await db.participants.addTrafficMany([
        { id: other.id, bytesIn: 10, bytesOut: 20, seenAt: flushedAt },
        { id: other.id, bytesIn: 5, bytesOut: 0 },
        { id: 'no-such-id', bytesIn: 1, bytesOut: 1 },
        { id: p.id, bytesIn: 0, bytesOut: 0 },
      ]);
      assert.equal(updated, 2);
      const flushed = await db.participants.get(other.id);
      assert.equal(flushed?.bytesIn, 16);
      assert.equal(flushed?.bytesOut, 22);
      assert.equal(flushed?.lastSeenAt.toISOString(), flushedAt.toISOString());
      assert.equal(
        (await db.participants.get(p.id))?.lastSeenAt.toISOString(),
        seen.toISOString(),
        'no seenAt: unchanged',
      );
      assert.equal(await db.participants.addTrafficMany([]), 0);
      assert.deepEqual(await db.participants.trafficTotals(state.federationId), {
        bytesIn: 100_000_000_016,
        bytesOut: 82,
        participants: 2,
      });
      assert.equal((await db.participants.listForFederation(state.federationId)).length, 2);

      const ghost = await db.participants.create({
        federationId: state.federationId,
        name: 'ghost',
        kind: 'other',
        resumeTokenHash: createToken().hash,
      });
      const removed = await db.participants.remove(ghost.id);
      assert.ok(removed?.removedAt);
      assert.equal((await db.participants.listForFederation(state.federationId)).length, 2);
      assert.equal(
        (await db.participants.listForFederation(state.federationId, { includeRemoved: true })).length,
        3,
      );
    });

    test('rounds: numbers allocated in order, batch indices round trip, close', async () => {
      const r1 = await db.rounds.open({ federationId: state.federationId, batchIndices: state.indices });
      const [r2, r3] = await Promise.all([
        db.rounds.open({ federationId: state.federationId, batchIndices: [1, 2, 3] }),
        db.rounds.open({ federationId: state.federationId, batchIndices: [4, 5, 6] }),
      ]);
      assert.equal(r1.number, 1);
      assert.deepEqual([r2.number, r3.number].sort(), [2, 3]);
      assert.deepEqual(r1.batchIndices, state.indices);
      assert.equal(r1.status, 'open');
      const explicit = await db.rounds.open({
        federationId: state.federationId,
        number: 10,
        batchIndices: [9],
      });
      assert.equal(explicit.number, 10);
      await rejectsWith(
        db.rounds.open({ federationId: state.federationId, number: 10, batchIndices: [9] }),
        'MUTUA_ERR_DB_CONFLICT',
      );
      await rejectsWith(
        db.rounds.open({ federationId: 'no-such-id', batchIndices: [1] }),
        'MUTUA_ERR_DB_NOT_FOUND',
      );
      assert.throws(
        () => db.rounds.open({ federationId: state.federationId, batchIndices: [-1] }),
        (e: unknown) => e instanceof DbError && e.code === 'MUTUA_ERR_DB_INVALID',
      );
      assert.equal((await db.federations.get(state.federationId))?.currentRound, 10);

      const closed = await db.rounds.close(state.federationId, 2, { reason: 'quorum', aggregationMs: 12.5 });
      assert.equal(closed.status, 'closed');
      assert.equal(closed.closeReason, 'quorum');
      assert.equal(closed.aggregationMs, 12.5);
      const again = await db.rounds.close(state.federationId, 2, { reason: 'deadline' });
      assert.equal(again.closeReason, 'quorum', 'closing twice keeps the first close');
      await rejectsWith(db.rounds.close(state.federationId, 99, { reason: 'x' }), 'MUTUA_ERR_DB_NOT_FOUND');
      assert.deepEqual(
        (await db.rounds.list(state.federationId, { status: 'open' })).map((r) => r.number),
        [1, 3, 10],
      );
      assert.equal((await db.rounds.latest(state.federationId))?.number, 10);
    });

    test('submissions: recorded once, a duplicate returns the first without error', async () => {
      const input = {
        federationId: state.federationId,
        roundNumber: 1,
        participantId: state.participantId,
        encoding: 'uint8',
        rows: 512,
        classes: 10,
        staleness: 0,
        weight: 1,
        bytes: state.payload.byteLength + 40,
        payload: state.payload,
        metrics: { trainLoss: 0.25, trainAccuracy: 0.9, samples: 600 },
      };
      const first = await db.submissions.record(input);
      assert.equal(first.duplicate, false);
      assert.equal(first.submission.payload, null, 'payload bytes are not echoed back');
      const dup = await db.submissions.record({ ...input, payload: bytes(16, 9), weight: 0.1 });
      assert.equal(dup.duplicate, true);
      assert.equal(dup.submission.id, first.submission.id);
      assert.equal(dup.submission.weight, 1);
      const stored = await db.submissions.get(state.participantId, 1, { withPayload: true });
      assert.deepEqual(stored?.payload, state.payload);
      assert.deepEqual(
        { ...stored, payload: null },
        first.submission,
        'what record() returns is what is stored',
      );
      assert.deepEqual(stored?.metrics, input.metrics);
      assert.equal((await db.rounds.get(state.federationId, 1))?.submissionCount, 1);

      // Two connections racing with the same (participant, round): one row, one duplicate.
      const race = await Promise.all(
        [0, 1, 2].map(() =>
          db.submissions.record({ ...input, participantId: state.otherParticipantId, staleness: 2 }),
        ),
      );
      assert.equal(race.filter((r) => !r.duplicate).length, 1);
      assert.equal(new Set(race.map((r) => r.submission.id)).size, 1);
      assert.equal((await db.rounds.get(state.federationId, 1))?.submissionCount, 2);

      await rejectsWith(db.submissions.record({ ...input, roundNumber: 77 }), 'MUTUA_ERR_DB_NOT_FOUND');

      // Two coordinators (two pools) racing on the same key: still one row. PostgreSQL only:
      // two SQLite connections in ONE thread would block each other (better-sqlite3 waits
      // synchronously for the lock the other, now frozen, connection holds).
      if (backend.name !== 'postgres') return;
      const second = await openDatabase(target.options);
      try {
        const ghost = await db.participants.create({
          federationId: state.federationId,
          name: 'racer',
          kind: 'node',
          resumeTokenHash: createToken().hash,
        });
        const receivedAt = new Date('2032-02-02T02:02:02.002Z');
        const both = await Promise.all([
          db.submissions.record({ ...input, roundNumber: 2, participantId: ghost.id, receivedAt }),
          second.submissions.record({ ...input, roundNumber: 2, participantId: ghost.id, receivedAt }),
        ]);
        assert.deepEqual(both.map((r) => r.duplicate).sort(), [false, true]);
        assert.equal(both[0].submission.id, both[1].submission.id);
        assert.equal(
          (await db.submissions.get(ghost.id, 2))?.receivedAt.toISOString(),
          receivedAt.toISOString(),
        );
        await db.participants.remove(ghost.id);
      } finally {
        await second.close();
      }
    });

    test('submissions: what a restart reads back, and pruning old payloads', async () => {
      const base = {
        federationId: state.federationId,
        encoding: 'float16',
        rows: 3,
        classes: 10,
        bytes: 100,
        payload: bytes(60, 4),
      };
      await db.submissions.record({
        ...base,
        roundNumber: 3,
        participantId: state.participantId,
        staleness: 1,
        weight: 0.7,
      });
      await db.submissions.record({
        ...base,
        roundNumber: 10,
        participantId: state.participantId,
        weight: 1,
      });

      const racers = backend.name === 'postgres' ? 1 : 0;
      const recovery = await db.submissions.listForRecovery(state.federationId, {
        fromRound: 10,
        rounds: [1],
      });
      assert.deepEqual(
        recovery.map((s) => s.roundNumber),
        [1, 1, 10],
      );
      assert.equal(
        (await db.submissions.listForRecovery(state.federationId, { fromRound: 3 })).filter(
          (s) => s.roundNumber === 3,
        ).length,
        1,
      );

      assert.equal(await db.submissions.prunePayloads(state.federationId, 3), 2 + racers);
      assert.equal(
        (await db.submissions.get(state.otherParticipantId, 1, { withPayload: true }))?.payload,
        null,
      );
      assert.equal((await db.submissions.get(state.otherParticipantId, 1))?.rows, 512, 'metadata stays');
      assert.equal(await db.submissions.prunePayloads(state.federationId, 3), 0);
    });

    test('consensus: bytes round trip, latest, version counter, replay is a no-op', async () => {
      const c1 = await db.consensus.save({
        federationId: state.federationId,
        version: 1,
        sourceVersions: [1],
        encoding: 'float32',
        rows: 512,
        classes: 10,
        contributors: 2,
        payload: bytes(100, 1),
        // What it aggregated is marked with its version, in the same transaction.
        included: [{ participantId: state.participantId, version: 1 }],
      });
      assert.deepEqual(c1.sourceVersions, [1]);
      const marks = async () =>
        (await db.submissions.listForRecovery(state.federationId, { fromRound: 1 }))
          .filter((x) => x.roundNumber === 1 || x.roundNumber === 3)
          .map((x) => [
            x.participantId === state.participantId ? 'p' : 'other',
            x.roundNumber,
            x.consensusVersion,
          ])
          .sort((a, b) => String(a).localeCompare(String(b)));
      assert.deepEqual(await marks(), [
        ['other', 1, null],
        ['p', 1, 1],
        ['p', 3, null],
      ]);
      const c2 = await db.consensus.save({
        federationId: state.federationId,
        version: 2,
        sourceVersions: [1, 3],
        contributors: 2,
        payload: state.consensus,
        included: [
          { participantId: state.participantId, version: 1 },
          { participantId: state.otherParticipantId, version: 1 },
          { participantId: state.participantId, version: 3 },
        ],
      });
      assert.equal(c2.version, 2);
      // The first consensus to aggregate a submission keeps it.
      assert.deepEqual(await marks(), [
        ['other', 1, 2],
        ['p', 1, 1],
        ['p', 3, 2],
      ]);
      const replay = await db.consensus.save({
        federationId: state.federationId,
        version: 2,
        sourceVersions: [1, 3],
        payload: state.consensus,
      });
      assert.deepEqual(replay.payload, state.consensus);
      await rejectsWith(
        db.consensus.save({
          federationId: state.federationId,
          version: 2,
          sourceVersions: [],
          payload: bytes(3, 3),
        }),
        'MUTUA_ERR_DB_CONFLICT',
      );
      await db.consensus.save({
        federationId: state.federationId,
        version: 1_000,
        sourceVersions: [],
        payload: bytes(1, 1),
      });
      for (const version of [1_000, 2, 1])
        assert.equal((await db.consensus.get(state.federationId, version))?.version, version);
      // A version stored late (below the newest) does not move the counter back.
      await db.consensus.save({
        federationId: state.federationId,
        version: 1,
        sourceVersions: [1],
        payload: bytes(100, 1),
      });
      assert.equal((await db.federations.get(state.federationId))?.consensusVersion, 1_000);
      assert.equal((await db.consensus.latest(state.federationId))?.version, 1_000);
      assert.deepEqual((await db.consensus.get(state.federationId, 2))?.payload, state.consensus);
      assert.equal(await db.consensus.latest('no-such-id'), null);
      // What every publish reads (retention, recovery): the newest version's metadata, no bytes.
      const m = await db.consensus.latestMeta(state.federationId);
      assert.equal(m?.version, 1_000);
      assert.equal(m !== null && 'payload' in m, false);
      assert.equal(await db.consensus.latestMeta('no-such-id'), null);
    });

    test('metrics: with submissions and separate reports, per round', async () => {
      await db.metrics.report({
        federationId: state.federationId,
        participantId: state.participantId,
        roundNumber: 1,
        metrics: { testAccuracy: 0.93 },
      });
      const round1 = await db.metrics.list(state.federationId, { roundNumber: 1 });
      assert.deepEqual(round1.map((m) => m.source).sort(), ['report', 'submission', 'submission']);
      const mine = await db.metrics.list(state.federationId, { participantId: state.participantId });
      assert.ok(mine.some((m) => m.source === 'report' && m.metrics.testAccuracy === 0.93));
      await rejectsWith(
        db.metrics.report({
          federationId: state.federationId,
          participantId: 'nobody',
          roundNumber: 1,
          metrics: {},
        }),
        'MUTUA_ERR_DB_NOT_FOUND',
      );
    });

    test('an acknowledged submission survives SIGKILL of the process that wrote it', async () => {
      const resumeHash = createToken().hash;
      const p = await db.participants.create({
        federationId: state.federationId,
        name: 'killed',
        kind: 'node',
        resumeTokenHash: resumeHash,
      });
      await recordInChildThenKill(target.options, {
        federationId: state.federationId,
        roundNumber: 3,
        participantId: p.id,
        encoding: 'uint8',
        rows: 512,
        classes: 10,
        bytes: 5200,
        payload: Array.from(state.payload),
      });
      const s = await db.submissions.get(p.id, 3, { withPayload: true });
      assert.deepEqual(s?.payload, state.payload);
    });

    test('a new open finds everything', async () => {
      await db.close();
      await db.close();
      db = await openDatabase(target.options);
      assert.deepEqual(db.migrations.applied, []);

      const f = await db.federations.get(state.federationId);
      assert.equal(f?.name, 'mnist digits');
      assert.equal(f?.currentRound, 10);
      assert.equal(f?.consensusVersion, 1_000);
      assert.deepEqual(await db.publicSets.getData(state.publicSetId), state.publicSetData);
      assert.equal((await db.joinTokens.findByHash(state.joinToken.hash))?.label, 'lab A');
      const [p] = await db.participants.findManyByResumeTokenHashes([state.resume.hash]);
      assert.equal(p?.id, state.participantId);
      assert.equal(p?.bytesIn, 100_000_000_000);
      assert.deepEqual((await db.rounds.get(state.federationId, 1))?.batchIndices, state.indices);
      assert.equal((await db.rounds.get(state.federationId, 3))?.submissionCount, 2);
      const round10 = await db.submissions.listForRecovery(
        state.federationId,
        { fromRound: 10 },
        { withPayload: true },
      );
      assert.equal(round10.length, 1);
      assert.deepEqual((await db.consensus.get(state.federationId, 2))?.payload, state.consensus);
      const dup = await db.submissions.record({
        federationId: state.federationId,
        roundNumber: 10,
        participantId: state.participantId,
        encoding: 'uint8',
        rows: 1,
        classes: 1,
        bytes: 1,
        payload: bytes(1, 1),
      });
      assert.equal(dup.duplicate, true, 'idempotency holds across restarts');
    });

    test('two coordinators migrating the same fresh database at once apply each migration once', async () => {
      const fresh = await backend.create();
      try {
        const results = await Promise.all([migrateDatabase(fresh.options), migrateDatabase(fresh.options)]);
        const applied = results.flatMap((r) => r.applied);
        assert.deepEqual(applied, db.migrations.alreadyApplied);
      } finally {
        await fresh.teardown();
      }
    });
  });
}

describe('database URL', () => {
  it('rejects what is neither postgresql:// nor file:', async () => {
    await rejectsWith(
      openDatabase({ databaseUrl: 'mysql://x@y/z', dataDir: tmpdir() }),
      'MUTUA_ERR_DB_CONFIG',
    );
  });
});
