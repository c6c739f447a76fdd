/**
 * The hot path: one group-committed batch of submissions (submissions-repository.ts),
 * inserted with ON CONFLICT DO NOTHING and counted on their rounds, all or nothing. The
 * SQL is written once, below, and run two ways: on PostgreSQL through the Prisma client's
 * raw-query API (one multi-row INSERT ... RETURNING); on SQLite through the plain
 * better-sqlite3 connection (DbContext.sqlite), row by row with one prepared statement,
 * with values in Prisma's storage format from sqlite-format.ts. Why SQLite does not use
 * the raw-query API too: measured in prisma/README.md ("The submission hot path").
 */
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { PrismaDb } from './context.ts';
import { sqliteBytes, sqliteDateTime, sqliteJson } from './sqlite-format.ts';

export interface PreparedSubmission {
  id: string;
  federationId: string;
  roundNumber: number;
  participantId: string;
  kind: 'predictions' | 'weights';
  encoding: string;
  rows: number;
  classes: number;
  k: number;
  numSamples: number;
  staleness: number;
  weight: number;
  bytes: number;
  payload: Uint8Array;
  metrics: Record<string, number> | null;
  receivedAt: Date;
}

const COLUMNS = [
  'id',
  'federationId',
  'roundNumber',
  'participantId',
  'kind',
  'encoding',
  'rows',
  'classes',
  'k',
  'numSamples',
  'staleness',
  'weight',
  'bytes',
  'payload',
  'metrics',
  'receivedAt',
] as const;

/** Rows per INSERT: 16 parameters each stays far below SQLite's and PostgreSQL's limits. */
export const MAX_BATCH = 500;

type Placeholder = (n: number) => string;

/** INSERT of `rows` rows; `param(n)` spells the n-th (1-based) parameter. */
function insertSql(rows: number, param: Placeholder): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++)
    tuples.push(`(${COLUMNS.map((_, c) => param(r * COLUMNS.length + c + 1)).join(', ')})`);
  return `INSERT INTO "Submission" (${COLUMNS.map((c) => `"${c}"`).join(', ')})
    VALUES ${tuples.join(', ')}
    ON CONFLICT ("participantId", "roundNumber") DO NOTHING`;
}

function countSql(param: Placeholder): string {
  return `UPDATE "Round" SET "submissionCount" = "submissionCount" + ${param(1)}
    WHERE "federationId" = ${param(2)} AND "number" = ${param(3)}`;
}

/** The row's values in COLUMNS order; the two drivers differ only in DateTime and Bytes. */
function rowValues(
  s: PreparedSubmission,
  dateTime: (d: Date) => unknown,
  bytes: (b: Uint8Array) => unknown,
): unknown[] {
  return [
    s.id,
    s.federationId,
    s.roundNumber,
    s.participantId,
    s.kind,
    s.encoding,
    s.rows,
    s.classes,
    s.k,
    s.numSamples,
    s.staleness,
    s.weight,
    s.bytes,
    bytes(s.payload),
    sqliteJson(s.metrics),
    dateTime(s.receivedAt),
  ];
}

/** How many were inserted per (federation, round). */
function perRound(items: PreparedSubmission[], inserted: Set<string>) {
  const counts = new Map<string, { federationId: string; roundNumber: number; n: number }>();
  for (const s of items) {
    if (!inserted.has(s.id)) continue;
    const k = `${s.federationId}\u0000${s.roundNumber}`;
    const entry = counts.get(k) ?? { federationId: s.federationId, roundNumber: s.roundNumber, n: 0 };
    entry.n++;
    counts.set(k, entry);
  }
  return [...counts.values()];
}

const question: Placeholder = () => '?';
const dollar: Placeholder = (n) => `$${n}`;

/** Prepared once per connection (better-sqlite3 keeps them compiled). */
const sqliteStatements = new WeakMap<SqliteDatabase, { insert: Statement; count: Statement }>();

/** SQLite: one transaction on the plain connection. Returns the ids actually inserted. */
export function insertBatchSqlite(db: SqliteDatabase, items: PreparedSubmission[]): Set<string> {
  let st = sqliteStatements.get(db);
  if (!st) {
    st = { insert: db.prepare(insertSql(1, question)), count: db.prepare(countSql(question)) };
    sqliteStatements.set(db, st);
  }
  const { insert, count } = st;
  return db.transaction(() => {
    const ids = new Set<string>();
    for (const s of items)
      if (insert.run(...rowValues(s, sqliteDateTime, sqliteBytes)).changes > 0) ids.add(s.id);
    for (const r of perRound(items, ids)) count.run(r.n, r.federationId, r.roundNumber);
    return ids;
  })();
}

/**
 * Through the Prisma client (PostgreSQL): Prisma converts each value for the column
 * (PostgreSQL types the parameters of an INSERT ... VALUES from the target columns, enum
 * and jsonb included). Returns the ids actually inserted.
 */
export function insertBatchPrisma(prisma: PrismaDb, items: PreparedSubmission[]): Promise<Set<string>> {
  return prisma.$transaction(async (tx) => {
    const values = items.flatMap((s) =>
      rowValues(
        s,
        (d) => d,
        (b) => b,
      ),
    );
    const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
      `${insertSql(items.length, dollar)} RETURNING "id"`,
      ...values,
    );
    const ids = new Set(rows.map((r) => r.id));
    for (const r of perRound(items, ids))
      await tx.$executeRawUnsafe(countSql(dollar), r.n, r.federationId, r.roundNumber);
    return ids;
  });
}
