/**
 * Driver adapters for the Prisma CLI (prisma.config.ts). The CLI runs its bundled
 * WebAssembly schema engine through these, so `migrate diff` / `migrate status` /
 * `migrate deploy` work with no engine download. The coordinator itself never uses
 * this file: it applies migrations with server/src/db/migrate.ts.
 *
 * Workarounds for the 6.19 adapters when the schema engine drives them:
 * - adapter-better-sqlite3 cannot run a multi-statement migration script (below);
 * - adapter-pg rejects the `name` column type that pg_catalog queries return
 *   (prisma/orm#27403), nor "char", so such catalog columns are relabelled as text;
 * - adapter-pg's connectToShadowDb() keeps the caller's connectionString (so the "shadow"
 *   connection is the real database) and drops the shadow database while its own pool
 *   is still connected; the factory below creates, connects to and drops it itself.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

const PG_TEXT = 25;
const PG_TEXT_ARRAY = 1009;
// pg_catalog types the schema engine reads but adapter-pg cannot map; their text form is what it wants.
const AS_TEXT = new Map([
  [18, PG_TEXT], // "char"
  [19, PG_TEXT], // name
  [22, PG_TEXT], // int2vector
  [24, PG_TEXT], // regproc
  [194, PG_TEXT], // pg_node_tree
  [2205, PG_TEXT], // regclass
  [1002, PG_TEXT_ARRAY], // "char"[]
  [1003, PG_TEXT_ARRAY], // name[]
]);

interface FieldLike {
  dataTypeID: number;
}

function relabelNameColumns<T>(result: T): T {
  for (const r of Array.isArray(result) ? result : [result]) {
    const fields = (r as { fields?: FieldLike[] } | undefined)?.fields ?? [];
    for (const f of fields) f.dataTypeID = AS_TEXT.get(f.dataTypeID) ?? f.dataTypeID;
  }
  return result;
}

type Callback = (err: Error | null, res: unknown) => void;

class NameAsTextClient extends pg.Client {
  // pg's query() has many overloads (promise and callback styles); wrap all of them.
  // biome-ignore lint/suspicious/noExplicitAny: mirrors pg's overloaded signature
  override query(config: any, values?: any, callback?: any): any {
    const query = super.query.bind(this) as (...args: unknown[]) => unknown;
    const wrap =
      (cb: Callback): Callback =>
      (err, res) =>
        cb(err, err ? res : relabelNameColumns(res));
    if (typeof values === 'function') return query(config, wrap(values));
    if (typeof callback === 'function') return query(config, values, wrap(callback));
    if (config && typeof config === 'object' && typeof config.callback === 'function') {
      config.callback = wrap(config.callback);
      return query(config, values);
    }
    const out = query(config, values);
    return out instanceof Promise ? out.then(relabelNameColumns) : out;
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function postgresCliAdapter(url: string) {
  const base = new PrismaPg({ connectionString: url, Client: NameAsTextClient });
  return {
    provider: base.provider,
    adapterName: base.adapterName,
    connect: () => base.connect(),
    async connectToShadowDb() {
      const name = `mutua_shadow_${randomUUID().replaceAll('-', '')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.end();
      }
      const shadow = new PrismaPg({ connectionString: withDatabase(url, name), Client: NameAsTextClient });
      const adapter = await shadow.connect();
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        const cleanup = new pg.Client({ connectionString: url });
        await cleanup.connect();
        try {
          await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        } finally {
          await cleanup.end();
        }
      };
      return adapter;
    },
  };
}

export function sqliteCliAdapter(file: string) {
  // better-sqlite3 creates the file but not its directory.
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // Its shadow database is in memory: `migrate diff --from-migrations` needs no server.
  const base = new PrismaBetterSQLite3({ url: `file:${file}` });
  return {
    provider: base.provider,
    adapterName: base.adapterName,
    connect: async () => multiStatementScripts(await base.connect()),
    connectToShadowDb: async () => multiStatementScripts(await base.connectToShadowDb()),
  };
}

type SqliteAdapter = Awaited<ReturnType<PrismaBetterSQLite3['connect']>>;

/**
 * The schema engine applies a whole migration.sql with executeRaw, which adapter-better-sqlite3
 * 6.19 prepares as ONE statement; better-sqlite3 refuses several ("more than one statement")
 * before running anything, so such a script is re-sent through executeScript (exec()).
 */
function multiStatementScripts(adapter: SqliteAdapter): SqliteAdapter {
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query) => {
    try {
      return await executeRaw(query);
    } catch (e) {
      if (query.args.length === 0 && e instanceof RangeError && /more than one statement/.test(e.message)) {
        await adapter.executeScript(query.sql);
        return 0;
      }
      throw e;
    }
  };
  return adapter;
}
