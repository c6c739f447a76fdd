/**
 * How Prisma 6 stores values in SQLite columns, for the code that writes SQLite without
 * the Prisma client: the submission batch (submission-batch.ts, on the plain hot-path
 * connection) and the migration runner (migrate.ts, `_prisma_migrations`). This is the
 * ONE place that knows the format; sqlite-format.test.ts holds it to what Prisma writes
 * (a Prisma upgrade that changes it fails that test, not a restart).
 */

/** DateTime: ISO 8601 in UTC with milliseconds and "+00:00" (2026-11-27T20:57:01.366+00:00). */
export function sqliteDateTime(d: Date): string {
  return d.toISOString().replace('Z', '+00:00');
}

/** Json: its JSON text (null stays SQL NULL). */
export function sqliteJson(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** Bytes: a BLOB (better-sqlite3 binds a Buffer as one, without a copy). */
export function sqliteBytes(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
