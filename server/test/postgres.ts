/**
 * Throwaway PostgreSQL databases for the coordinator tests, on the server at
 * MUTUA_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres): created
 * fresh, dropped afterwards. An unreachable server is a test failure with a message that
 * says what to do, never a silent skip (MUTUA_SKIP_POSTGRES=1 skips on purpose).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_ADMIN_URL =
  process.env.MUTUA_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createPostgresDatabase(): Promise<TestDatabase> {
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
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
