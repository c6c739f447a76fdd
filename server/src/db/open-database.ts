import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ensureDirectory } from '../ensure-directory.ts';
import { ConsensusRepository } from './consensus-repository.ts';
import { createContext, type DbProvider, type PrismaDb } from './context.ts';
import { DbError } from './errors.ts';
import { FederationsRepository } from './federations-repository.ts';
import { JoinTokensRepository } from './join-tokens-repository.ts';
import { PrismaLiveStore } from './live-store.ts';
import { MetricsRepository } from './metrics-repository.ts';
import {
  defaultMigrationsDir,
  type MigrationResult,
  migratePostgres,
  migrateSqlite,
  readMigrations,
} from './migrate.ts';
import { ParticipantsRepository } from './participants-repository.ts';
import { PublicSetsRepository } from './public-sets-repository.ts';
import { RoundsRepository } from './rounds-repository.ts';
import type { Db } from './store.ts';
import { SubmissionsRepository } from './submissions-repository.ts';

export interface OpenDatabaseOptions {
  /**
   * Unset or empty: SQLite file `<dataDir>/mutua.db`. `postgres://` / `postgresql://`:
   * PostgreSQL. `file:<path>`: SQLite at that path.
   */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** Default: prisma/<provider>/migrations of this checkout. */
  migrationsDir?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Told about things worth a log line (e.g. an applied migration whose file changed since). */
  onWarning?: (message: string) => void;
}

export type DatabaseTarget = { provider: 'sqlite'; file: string } | { provider: 'postgres'; url: string };

export function resolveDatabaseTarget(
  options: Pick<OpenDatabaseOptions, 'databaseUrl' | 'dataDir'>,
): DatabaseTarget {
  const url = options.databaseUrl?.trim() ?? '';
  if (url === '') return { provider: 'sqlite', file: path.resolve(options.dataDir, 'mutua.db') };
  if (/^postgres(ql)?:\/\//.test(url)) return { provider: 'postgres', url };
  if (url.startsWith('file:')) {
    const file = url.slice('file:'.length);
    if (file === '') throw new DbError('MUTUA_ERR_DB_CONFIG', 'DATABASE_URL file: has no path');
    return { provider: 'sqlite', file: path.resolve(file) };
  }
  throw new DbError(
    'MUTUA_ERR_DB_CONFIG',
    `DATABASE_URL must start with postgresql:// or file:, got "${redact(url)}"`,
  );
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

async function loadClient<T>(provider: DbProvider, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    throw new DbError(
      'MUTUA_ERR_DB_CONFIG',
      `the ${provider} Prisma client is not generated (server/src/db/generated): run \`npm run db:generate\``,
      { cause: e },
    );
  }
}

/**
 * SQLite durability: WAL with synchronous=FULL. With NORMAL, WAL commits survive a
 * process crash (SIGKILL) but the last ones can be lost on power failure or an OS crash;
 * an acknowledged submission must survive both, so every commit syncs the WAL (one fsync;
 * checkpoints stay asynchronous). foreign_keys is per connection and enforced.
 */
async function openSqlite(file: string): Promise<PrismaDb> {
  const { PrismaClient } = await loadClient('sqlite', () => import('./generated/sqlite/client.ts'));
  // Each provider's driver and adapter are loaded only when it is used (a faster start).
  const { PrismaBetterSQLite3 } = await import('@prisma/adapter-better-sqlite3');
  const prisma = new PrismaClient({
    adapter: new PrismaBetterSQLite3({ url: `file:${file}`, timeout: 15_000 }),
  });
  await prisma.$connect();
  await prisma.$executeRawUnsafe('PRAGMA synchronous = FULL');
  await prisma.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  return prisma;
}

async function openPostgres(url: string, poolSize: number | undefined): Promise<PrismaDb> {
  const { PrismaClient } = await loadClient('postgres', () => import('./generated/postgres/client.ts'));
  const { PrismaPg } = await import('@prisma/adapter-pg');
  // Each write is a committed statement or transaction (synchronous_commit as the server has it, default on).
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: poolSize ?? 10 }) });
  await prisma.$connect();
  // Same models, same API: the repositories are typed against the SQLite client (context.ts).
  return prisma as unknown as PrismaDb;
}

/**
 * The SQLite file holds token hashes and every participant's contributions: readable by its
 * owner only (0600; SQLite gives the -wal and -shm files the main file's mode). A new file
 * is created so, and an existing one (made by an older version) is tightened.
 */
export function secureSqliteFile(file: string): void {
  ensureDirectory(path.dirname(file));
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

/**
 * Opens the database, applying pending migrations first (the same code path the Docker
 * container runs at start), and returns the repositories.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Db> {
  const target = resolveDatabaseTarget(options);
  const migrations = readMigrations(options.migrationsDir ?? defaultMigrationsDir(target.provider));
  if (target.provider === 'sqlite') secureSqliteFile(target.file);
  const result =
    target.provider === 'sqlite'
      ? migrateSqlite(target.file, migrations)
      : await migratePostgres(target.url, migrations);
  for (const name of result.modified) {
    options.onWarning?.(`migration ${name} was applied but its migration.sql has changed since`);
  }
  const prisma =
    target.provider === 'sqlite'
      ? await openSqlite(target.file)
      : await openPostgres(target.url, options.poolSize);
  // The hot-path connection (context.ts, DbContext.sqlite; why: prisma/README.md), with
  // the same durability settings as the client's.
  const sqlite = target.provider === 'sqlite' ? new Database(target.file, { timeout: 15_000 }) : null;
  sqlite?.pragma('synchronous = FULL');
  sqlite?.pragma('foreign_keys = ON');
  const ctx = createContext(prisma, target.provider, sqlite);
  let closing: Promise<void> | null = null;
  const repositories = {
    federations: new FederationsRepository(ctx),
    publicSets: new PublicSetsRepository(ctx),
    joinTokens: new JoinTokensRepository(ctx),
    participants: new ParticipantsRepository(ctx),
    rounds: new RoundsRepository(ctx),
    submissions: new SubmissionsRepository(ctx),
    consensus: new ConsensusRepository(ctx),
    metrics: new MetricsRepository(ctx),
  };
  return {
    provider: target.provider,
    location: target.provider === 'sqlite' ? target.file : redact(target.url),
    migrations: result,
    ...repositories,
    live: new PrismaLiveStore(repositories),
    async ping() {
      await ctx.unit((db) => db.$queryRawUnsafe('SELECT 1'));
    },
    close() {
      closing ??= (async () => {
        await ctx.drain();
        await prisma.$disconnect();
        sqlite?.close();
      })();
      return closing;
    },
  };
}

/** Applies pending migrations and returns, without opening a client (`npm run db:migrate`). */
export async function migrateDatabase(
  options: Pick<OpenDatabaseOptions, 'databaseUrl' | 'dataDir' | 'migrationsDir'>,
): Promise<MigrationResult & { target: DatabaseTarget }> {
  const target = resolveDatabaseTarget(options);
  const migrations = readMigrations(options.migrationsDir ?? defaultMigrationsDir(target.provider));
  if (target.provider === 'sqlite') secureSqliteFile(target.file);
  const result =
    target.provider === 'sqlite'
      ? migrateSqlite(target.file, migrations)
      : await migratePostgres(target.url, migrations);
  return { ...result, target };
}
