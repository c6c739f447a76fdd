/**
 * Holds sqlite-format.ts to what the Prisma client itself writes into SQLite, and the
 * plain-connection submission batch to what Prisma reads back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { hashToken } from './index.ts';
import { openDatabase } from './open-database.ts';
import { sqliteBytes, sqliteDateTime, sqliteJson } from './sqlite-format.ts';
import type { Db } from './store.ts';

describe('SQLite storage format (sqlite-format.ts) against Prisma', () => {
  let dir: string;
  let db: Db;
  let raw: Database.Database;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mutua-format-'));
    db = await openDatabase({ dataDir: dir });
    raw = new Database(path.join(dir, 'mutua.db'), { readonly: true });
  });
  after(async () => {
    raw.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes DateTime, Json and Bytes exactly as the Prisma client does', async () => {
    const settings = { a: 1, nested: { b: [1, 2.5, 'x'] } };
    const f = await db.federations.create({ name: 'fmt', settings });
    const openedAt = new Date(Date.UTC(2026, 10, 27, 20, 57, 1, 366));
    const indices = new Uint32Array([7, 1, 4]);
    await db.rounds.open({ federationId: f.id, number: 1, batchIndices: indices, openedAt });
    const row = raw
      .prepare('SELECT "openedAt", "batchIndices" FROM "Round" WHERE "federationId" = ?')
      .get(f.id) as { openedAt: unknown; batchIndices: Buffer };
    assert.equal(row.openedAt, sqliteDateTime(openedAt));
    assert.deepEqual(row.batchIndices, sqliteBytes(new Uint8Array(indices.buffer)));
    const fed = raw.prepare('SELECT "settings" FROM "Federation" WHERE "id" = ?').get(f.id) as {
      settings: unknown;
    };
    assert.equal(fed.settings, sqliteJson(settings));
  });

  it('a submission written on the plain connection reads back through Prisma unchanged', async () => {
    const f = await db.federations.create({ name: 'fmt2', settings: {} });
    await db.rounds.open({
      federationId: f.id,
      number: 1,
      batchIndices: new Uint32Array(2),
      openedAt: new Date(),
    });
    const t = await db.joinTokens.create({ federationId: f.id, tokenHash: hashToken('t') });
    const p = await db.participants.create({
      federationId: f.id,
      joinTokenId: t.id,
      name: 'p',
      kind: 'node',
      resumeTokenHash: hashToken('r'),
    });
    const receivedAt = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    const payload = new Uint8Array([1, 2, 3, 250]);
    await db.submissions.record({
      federationId: f.id,
      roundNumber: 1,
      participantId: p.id,
      encoding: 'uint8',
      rows: 1,
      classes: 4,
      bytes: 30,
      payload,
      metrics: { loss: 0.25 },
      receivedAt,
    });
    const [s] = (await db.live.loadState(f.id, 1)).submissions;
    assert.ok(s);
    assert.equal(s.receivedAt.toISOString(), receivedAt.toISOString());
    assert.deepEqual(s.metrics, { loss: 0.25 });
    assert.deepEqual([...s.payload], [...payload]);
    assert.equal((await db.rounds.get(f.id, 1))?.submissionCount, 1);
  });
});
