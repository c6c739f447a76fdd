// Crash recovery for real on the embedded SQLite database: a coordinator process is
// killed with SIGKILL in the middle of a round and restarted on the same data directory
// (the scenario is in crash-scenario.ts; crash-recovery-postgres.test.ts runs it on
// PostgreSQL), and killed inside each crash window (crash-windows.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crashAndRecover } from './crash-scenario.ts';
import { crashInEveryWindow } from './crash-windows.ts';
import { ADMIN_TOKEN } from './helper.ts';

describe('crash recovery: SIGKILL in the middle of a round, restart on the same database', () => {
  it('embedded SQLite', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-crash-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    await crashAndRecover(t, { MUTUA_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'info' }, ['--data-dir', dataDir]);
  });

  it('embedded SQLite, killed inside each crash window', { timeout: 180_000 }, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-crash-windows-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    await crashInEveryWindow(t, { MUTUA_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'warn' }, [
      '--data-dir',
      dataDir,
    ]);
  });
});
