// Crash recovery for real on PostgreSQL (a fresh database on 127.0.0.1:5432): the
// scenarios of crash-recovery.test.ts (crash-scenario.ts, crash-windows.ts) with DATABASE_URL. PostgreSQL
// unreachable is a failure unless MUTUA_SKIP_POSTGRES=1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crashAndRecover } from './crash-scenario.ts';
import { crashInEveryWindow } from './crash-windows.ts';
import { ADMIN_TOKEN } from './helper.ts';
import { createPostgresDatabase } from './postgres.ts';

describe('crash recovery: SIGKILL in the middle of a round, restart on the same database', () => {
  it('PostgreSQL', {
    skip: process.env.MUTUA_SKIP_POSTGRES === '1' ? 'MUTUA_SKIP_POSTGRES=1' : false,
  }, async (t) => {
    const db = await createPostgresDatabase();
    t.after(() => db.drop());
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-crash-pg-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    await crashAndRecover(t, { MUTUA_ADMIN_TOKEN: ADMIN_TOKEN, DATABASE_URL: db.url, LOG_LEVEL: 'info' }, [
      '--data-dir',
      dataDir,
    ]);
  });

  it('PostgreSQL, killed inside each crash window', {
    skip: process.env.MUTUA_SKIP_POSTGRES === '1' ? 'MUTUA_SKIP_POSTGRES=1' : false,
    timeout: 180_000,
  }, async (t) => {
    const db = await createPostgresDatabase();
    t.after(() => db.drop());
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-crash-windows-pg-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    await crashInEveryWindow(t, { MUTUA_ADMIN_TOKEN: ADMIN_TOKEN, DATABASE_URL: db.url, LOG_LEVEL: 'warn' }, [
      '--data-dir',
      dataDir,
    ]);
  });
});
