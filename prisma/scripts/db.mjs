#!/usr/bin/env node
// Database tooling around the Prisma CLI, offline (no engine download):
//   node prisma/scripts/db.mjs schemas [--check]   render prisma/{sqlite,postgres}/schema.prisma from prisma/models.prisma
//   node prisma/scripts/db.mjs generate [--if-available]  generate both clients into server/src/db/generated/
//   node prisma/scripts/db.mjs migration <name>    render schemas, then write prisma/<provider>/migrations/<ts>_<name>/
//   node prisma/scripts/db.mjs check               fail if schemas or migrations drifted from prisma/models.prisma
// The PostgreSQL half of `migration` and `check` needs a server for Prisma's shadow database:
// MUTUA_SHADOW_POSTGRES_URL, else a postgres DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres.
// MUTUA_SKIP_POSTGRES=1 skips the PostgreSQL half of `check`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = 'prisma/models.prisma';

const PROVIDERS = {
  sqlite: { prismaProvider: 'sqlite' },
  postgres: { prismaProvider: 'postgresql' },
};

function schemaPath(key) {
  return path.join(ROOT, 'prisma', key, 'schema.prisma');
}
function migrationsDir(key) {
  return path.join(ROOT, 'prisma', key, 'migrations');
}

function render(key) {
  const { prismaProvider } = PROVIDERS[key];
  const models = readFileSync(path.join(ROOT, SOURCE), 'utf8');
  return `// GENERATED from ${SOURCE} by \`npm run db:schemas\`: do not edit (\`npm run db:check\` fails on drift).

generator client {
  provider               = "prisma-client"
  output                 = "../../server/src/db/generated/${key}"
  // No Rust query engine: the query compiler (WebAssembly) and a driver adapter.
  engineType             = "client"
  moduleFormat           = "esm"
  runtime                = "nodejs"
  importFileExtension    = "ts"
  generatedFileExtension = "ts"
}

datasource db {
  provider = "${prismaProvider}"
  // Set by prisma.config.ts. Never used to connect (driver adapters do that), but without
  // an env() URL the CLI falls back to downloading an engine.
  url      = env("MUTUA_PRISMA_DATASOURCE_URL")
}

${models}`;
}

function prismaBin() {
  const bin = path.join(ROOT, 'node_modules', 'prisma', 'build', 'index.js');
  return existsSync(bin) ? bin : null;
}

function defaultShadowUrl() {
  if (process.env.MUTUA_SHADOW_POSTGRES_URL) return process.env.MUTUA_SHADOW_POSTGRES_URL;
  const url = process.env.DATABASE_URL ?? '';
  return /^postgres(ql)?:\/\//.test(url) ? url : 'postgresql://postgres@127.0.0.1:5432/postgres';
}

function prisma(key, args, { capture = false } = {}) {
  const bin = prismaBin();
  if (!bin) throw new Error('the prisma CLI is not installed (npm ci installs it as a dev dependency)');
  const env = {
    ...process.env,
    MUTUA_DB_PROVIDER: key,
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
  // Nothing here touches a real database: diffs run against shadow databases, so SQLite's
  // main connection is in memory and PostgreSQL's is the server's maintenance database.
  env.DATABASE_URL = key === 'postgres' ? defaultShadowUrl() : 'file::memory:';
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  if (r.error) throw r.error;
  return r;
}

function listMigrations(key) {
  const dir = migrationsDir(key);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

function schemas(check) {
  let drift = false;
  for (const key of Object.keys(PROVIDERS)) {
    const file = schemaPath(key);
    const want = render(key);
    const have = existsSync(file) ? readFileSync(file, 'utf8') : null;
    if (have === want) continue;
    if (check) {
      console.error(`${path.relative(ROOT, file)} differs from ${SOURCE}: run \`npm run db:schemas\``);
      drift = true;
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, want);
      console.log(`wrote ${path.relative(ROOT, file)}`);
    }
  }
  return !drift;
}

function generate(ifAvailable) {
  if (!prismaBin()) {
    if (ifAvailable) {
      console.warn('db: prisma CLI not installed (production install?); not generating the Prisma clients');
      return true;
    }
    throw new Error('the prisma CLI is not installed');
  }
  for (const key of Object.keys(PROVIDERS)) {
    const r = prisma(key, ['generate', '--no-hints'], { capture: true });
    if (r.status !== 0) {
      process.stderr.write(r.stdout + r.stderr);
      return false;
    }
    console.log(`db: generated the ${key} client (server/src/db/generated/${key})`);
  }
  return true;
}

function diffArgs(key, extra) {
  const from = listMigrations(key).length
    ? ['--from-migrations', path.relative(ROOT, migrationsDir(key))]
    : ['--from-empty'];
  return [
    'migrate',
    'diff',
    ...from,
    '--to-schema-datamodel',
    path.relative(ROOT, schemaPath(key)),
    ...extra,
  ];
}

function migration(name) {
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    throw new Error('usage: npm run db:migration -- <name>   (lowercase letters, digits, _)');
  }
  schemas(false);
  const scripts = {};
  for (const key of Object.keys(PROVIDERS)) {
    const r = prisma(key, diffArgs(key, ['--script']), { capture: true });
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      throw new Error(`prisma migrate diff failed for ${key}`);
    }
    scripts[key] = r.stdout;
  }
  const empty = (sql) => !sql.trim() || /^-- This is an empty migration\.\s*$/.test(sql.trim());
  if (Object.values(scripts).every(empty)) {
    console.log('db: no schema change, no migration written');
    return true;
  }
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const dirName = `${stamp}_${name}`;
  for (const key of Object.keys(PROVIDERS)) {
    const dir = path.join(migrationsDir(key), dirName);
    mkdirSync(dir, { recursive: true });
    // Both providers get the same migration names (db:check relies on it), even when one is a no-op.
    writeFileSync(
      path.join(dir, 'migration.sql'),
      empty(scripts[key]) ? '-- No change for this provider.\n' : scripts[key],
    );
    writeFileSync(
      path.join(migrationsDir(key), 'migration_lock.toml'),
      `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${PROVIDERS[key].prismaProvider}"\n`,
    );
    console.log(`wrote prisma/${key}/migrations/${dirName}/migration.sql`);
  }
  return true;
}

function check() {
  let ok = schemas(true);
  const names = Object.fromEntries(Object.keys(PROVIDERS).map((k) => [k, listMigrations(k)]));
  if (JSON.stringify(names.sqlite) !== JSON.stringify(names.postgres)) {
    console.error(
      `migration names differ between providers:\n  sqlite:   ${names.sqlite}\n  postgres: ${names.postgres}`,
    );
    ok = false;
  }
  for (const key of Object.keys(PROVIDERS)) {
    for (const m of names[key]) {
      if (!existsSync(path.join(migrationsDir(key), m, 'migration.sql'))) {
        console.error(`prisma/${key}/migrations/${m} has no migration.sql`);
        ok = false;
      }
    }
    if (key === 'postgres' && process.env.MUTUA_SKIP_POSTGRES === '1') {
      console.warn('db: MUTUA_SKIP_POSTGRES=1: not diffing the postgres migrations');
      continue;
    }
    if (!ok) continue;
    const r = prisma(key, diffArgs(key, ['--exit-code']), { capture: true });
    if (r.status === 2) {
      console.error(
        `prisma/${key}: the schema has changes no migration covers: run \`npm run db:migration -- <name>\``,
      );
      process.stderr.write(r.stdout);
      ok = false;
    } else if (r.status !== 0) {
      console.error(`prisma/${key}: prisma migrate diff failed (exit ${r.status})`);
      process.stderr.write(r.stdout + r.stderr);
      ok = false;
    } else {
      console.log(`db: prisma/${key} schema and migrations agree`);
    }
  }
  return ok;
}

const [command, ...rest] = process.argv.slice(2);
let ok;
try {
  if (command === 'schemas') ok = schemas(rest.includes('--check'));
  else if (command === 'generate') ok = generate(rest.includes('--if-available'));
  else if (command === 'migration') ok = migration(rest[0]);
  else if (command === 'check') ok = check();
  else {
    console.error(
      'usage: node prisma/scripts/db.mjs schemas [--check] | generate [--if-available] | migration <name> | check',
    );
    ok = false;
  }
} catch (e) {
  console.error(`db: ${e instanceof Error ? e.message : e}`);
  ok = false;
}
process.exit(ok ? 0 : 1);
