import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadCsvFile } from './csv-file.ts';

describe('loadCsvFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mutua-csv-'));
    await writeFile(join(dir, 'train.csv.gz'), gzipSync('label,a,b\n1,0,255\n0,255,0\n'));
    await writeFile(join(dir, 'bad.csv'), 'label,a,b\n1,0,255\n0,255\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads a (gzipped) CSV file', async () => {
    const ds = await loadCsvFile(join(dir, 'train.csv.gz'), { shape: [2] });
    assert.equal(ds.n, 2);
    assert.deepEqual([...ds.x], [0, 1, 1, 0]);
  });

  it('names the file and line in errors', async () => {
    const file = join(dir, 'bad.csv');
    await assert.rejects(loadCsvFile(file), (err: Error & { code: string }) => {
      assert.equal(err.code, 'DATA_CSV_RAGGED_ROW');
      assert.ok(err.message.includes(`${file}:3:`), err.message);
      return true;
    });
  });
});
