// The embedded database holds token hashes and every contribution: the coordinator creates
// it readable by its owner only, and tightens a file an older version left world-readable
// (issue 10 item 11).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { openDatabase } from '../src/db/index.ts';

const mode = (f: string) => statSync(f).mode & 0o777;

it('the SQLite file (and its WAL) is created 0600 whatever the umask', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mutua-mode-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const old = process.umask(0o022);
  t.after(() => process.umask(old));
  const db = await openDatabase({ dataDir });
  try {
    await db.federations.list();
    const file = join(dataDir, 'mutua.db');
    assert.equal(mode(file).toString(8), '600');
    if (existsSync(`${file}-wal`)) assert.equal(mode(`${file}-wal`).toString(8), '600');
  } finally {
    await db.close();
  }
});

it('an existing world-readable file is tightened to 0600', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mutua-mode-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const file = join(dataDir, 'mutua.db');
  writeFileSync(file, '');
  chmodSync(file, 0o644);
  const db = await openDatabase({ dataDir });
  await db.close();
  assert.equal(mode(file).toString(8), '600');
});
