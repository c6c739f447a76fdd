// The database tooling, offline: the committed schemas and migrations match
// prisma/models.prisma (what `npm run db:check` checks), and the Prisma CLI agrees with
// the coordinator's own migration runner about what is applied.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrateDatabase } from '../src/db/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('database tooling', () => {
  it('db:check: schemas rendered from prisma/models.prisma, migrations cover them (both providers)', async () => {
    const { code, output } = await run(['prisma/scripts/db.mjs', 'check']);
    assert.equal(code, 0, output);
    assert.match(output, /prisma\/sqlite schema and migrations agree/);
  });

  it('the Prisma CLI sees migrations applied by openDatabase as applied', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mutua-tooling-'));
    try {
      const result = await migrateDatabase({ dataDir });
      assert.ok(result.applied.length >= 1);
      const { code, output } = await run(['node_modules/prisma/build/index.js', 'migrate', 'status'], {
        MUTUA_DB_PROVIDER: 'sqlite',
        MUTUA_DATA_DIR: dataDir,
        DATABASE_URL: '',
        CHECKPOINT_DISABLE: '1',
      });
      assert.equal(code, 0, output);
      assert.match(output, /Database schema is up to date/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
