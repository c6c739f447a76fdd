/**
 * Test databases on the PostgreSQL at 127.0.0.1:5432 when MUTUA_TEST_DATABASE=postgres:
 * a fresh database per test, dropped afterwards. Otherwise undefined (embedded SQLite).
 */
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

export const POSTGRES_ADMIN_URL =
  process.env.MUTUA_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function usingPostgres(): boolean {
  return process.env.MUTUA_TEST_DATABASE === 'postgres';
}

export async function createTestDatabaseUrl(t: TestContext | null): Promise<string | undefined> {
  if (!usingPostgres()) return undefined;
  const name = `mutua_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  t?.after(async () => {
    const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  return url.toString();
}
