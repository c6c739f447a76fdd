/**
 * `npm run db:migrate`: applies pending migrations to the configured database and exits,
 * with the same code the coordinator runs at start (openDatabase). Configuration as the
 * server's: DATABASE_URL (postgresql://... or file:...), else SQLite in MUTUA_DATA_DIR
 * (default ./.data).
 */
import { DbError } from './errors.ts';
import { migrateDatabase } from './open-database.ts';

try {
  const r = await migrateDatabase({
    databaseUrl: process.env.DATABASE_URL,
    dataDir: process.env.MUTUA_DATA_DIR ?? '.data',
  });
  const where = r.target.provider === 'sqlite' ? r.target.file : 'PostgreSQL';
  if (r.applied.length === 0)
    console.log(`db: ${where} is up to date (${r.alreadyApplied.length} migrations)`);
  for (const name of r.applied) console.log(`db: applied ${name} to ${where}`);
  for (const name of r.modified)
    console.warn(`db: warning: ${name} was applied but its migration.sql changed since`);
} catch (e) {
  console.error(`db: ${e instanceof DbError ? `${e.code}: ${e.message}` : e}`);
  process.exitCode = 1;
}
