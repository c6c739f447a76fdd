/**
 * What every repository holds: the Prisma client and a way to run one unit of work.
 *
 * Both generated clients (SQLite, PostgreSQL) come from the same models
 * (prisma/models.prisma), so the repositories are written once against the SQLite
 * client's types and use no provider-only feature; the PostgreSQL client is used through
 * the same type.
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { PrismaClient } from './generated/sqlite/client.ts';

export type { Prisma } from './generated/sqlite/client.ts';
export type PrismaDb = PrismaClient;
export type DbProvider = 'sqlite' | 'postgres';

export interface DbContext {
  readonly prisma: PrismaDb;
  readonly provider: DbProvider;
  /**
   * Runs `work` as one unit. On SQLite every unit runs alone: the better-sqlite3 adapter
   * shares ONE connection between transactions and plain queries, so a write issued while
   * another unit's transaction is open would join it (and vanish with its rollback).
   * PostgreSQL pools connections and runs units concurrently.
   */
  unit<T>(work: (prisma: PrismaDb) => Promise<T>): Promise<T>;
  /** Makes close() wait for `p` too (work queued outside unit(), e.g. a group commit). */
  track<T>(p: Promise<T>): Promise<T>;
  /**
   * SQLite only (else null): a second, plain better-sqlite3 connection to the same file,
   * for the one hot path (the group-committed submission batch, submission-batch.ts),
   * where the same statement through Prisma's $queryRaw costs ~4x the CPU per submission
   * (measured: prisma/README.md). Values are written in Prisma's format by
   * sqlite-format.ts, the one place that knows it. Use it only inside unit(), which
   * serializes it with every Prisma write, so the two connections never write at once.
   */
  readonly sqlite: SqliteDatabase | null;
}

/** A FIFO mutex over promises. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** Tracks units in flight so close() can wait for writes that were already accepted. */
class InFlight {
  readonly #pending = new Set<Promise<unknown>>();

  track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    const done = () => this.#pending.delete(p);
    p.then(done, done);
    return p;
  }

  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}

export function createContext(
  prisma: PrismaDb,
  provider: DbProvider,
  sqlite: SqliteDatabase | null = null,
): DbContext & { drain(): Promise<void> } {
  const inFlight = new InFlight();
  const queue = provider === 'sqlite' ? new SerialQueue() : null;
  return {
    prisma,
    provider,
    unit: (work) => inFlight.track(queue ? queue.run(() => work(prisma)) : work(prisma)),
    track: (p) => inFlight.track(p),
    sqlite,
    drain: () => inFlight.drain(),
  };
}
