/**
 * Prisma CLI configuration (the CLI only: generate, migrate diff/status/deploy).
 *
 * Mutua keeps one schema per provider (prisma/sqlite, prisma/postgres, both rendered from
 * prisma/models.prisma). This file picks one:
 *   MUTUA_DB_PROVIDER=sqlite|postgres        explicit (the prisma/scripts set it), else
 *   DATABASE_URL=postgres(ql)://...          PostgreSQL, else
 *   SQLite at DATABASE_URL=file:... or <MUTUA_DATA_DIR, default .data>/mutua.db.
 *
 * `engine: 'js'` + a driver adapter makes the CLI use its bundled WebAssembly schema
 * engine, so nothing is downloaded (this machine and CI have no internet).
 */
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { postgresCliAdapter, sqliteCliAdapter } from './prisma/cli-adapters.ts';

const databaseUrl = process.env.DATABASE_URL ?? '';
const isPostgresUrl = /^postgres(ql)?:\/\//.test(databaseUrl);
const provider = process.env.MUTUA_DB_PROVIDER ?? (isPostgresUrl ? 'postgres' : 'sqlite');
if (provider !== 'sqlite' && provider !== 'postgres') {
  throw new Error(`MUTUA_DB_PROVIDER must be "sqlite" or "postgres", not "${provider}"`);
}
const sqliteFile = databaseUrl.startsWith('file:')
  ? databaseUrl.slice('file:'.length)
  : path.join(process.env.MUTUA_DATA_DIR ?? '.data', 'mutua.db');

// The schemas' datasource reads this variable only so that the CLI does not fall back to
// downloading a query engine; every connection goes through the adapter below.
process.env.MUTUA_PRISMA_DATASOURCE_URL =
  provider === 'postgres' ? databaseUrl || 'postgresql://unset' : `file:${sqliteFile}`;

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: `prisma/${provider}/schema.prisma`,
  migrations: { path: `prisma/${provider}/migrations` },
  async adapter() {
    if (provider === 'sqlite') return sqliteCliAdapter(sqliteFile);
    if (!isPostgresUrl) throw new Error('MUTUA_DB_PROVIDER=postgres needs DATABASE_URL=postgresql://...');
    return postgresCliAdapter(databaseUrl);
  },
});
