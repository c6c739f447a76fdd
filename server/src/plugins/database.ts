/**
 * The database as `app.db`: the one given (tests share one across apps), or opened and
 * migrated from the configuration and closed with the app.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type Db, openDatabase } from '../db/index.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
  }
}

export interface DatabasePluginOptions {
  /** An already opened database, which the caller closes; otherwise opened here. */
  db?: Db;
  databaseUrl?: string;
  dataDir: string;
}

export default fp(
  async (app: FastifyInstance, opts: DatabasePluginOptions) => {
    const db = opts.db ?? (await openDatabase({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir }));
    app.decorate('db', db);
    // The coordinator closes in preClose (plugins/coordinator.ts), so its last writes land before this.
    if (!opts.db) app.addHook('onClose', () => db.close());
  },
  { name: 'mutua-database' },
);
