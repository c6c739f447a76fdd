import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dataset } from '../dataset.ts';
import { FASHION_MNIST_LABELS } from '../fashion-mnist.ts';
import { labelHistogram } from '../partition.ts';
import { loadFashionMnist } from './fashion-mnist.ts';

/** One pass over the pixels: 47M values. */
function pixelStats(ds: Dataset): { min: number; max: number; mean: number } {
  const x = ds.x;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / x.length };
}

describe('loadFashionMnist (fashion-mnist package)', () => {
  it('loads 60,000 training images, 6,000 per class, pixels in [0, 1]', async () => {
    const ds = await loadFashionMnist({ split: 'train' });
    assert.equal(ds.n, 60_000);
    assert.equal(ds.x.length, 60_000 * 784);
    assert.deepEqual(ds.shape, [28, 28, 1]);
    assert.equal(ds.numClasses, 10);
    assert.deepEqual(ds.labelNames, FASHION_MNIST_LABELS);
    assert.deepEqual(labelHistogram(ds.y, 10), new Array(10).fill(6000));
    const { min, max, mean } = pixelStats(ds);
    assert.deepEqual([min, max], [0, 1]);
    // 0.2860 is the usual Fashion-MNIST training-set mean: evidence for the split (see fashion-mnist.ts).
    assert.ok(Math.abs(mean - 0.286) < 0.0005, `mean ${mean}`);
  });

  it('loads 10,000 test images, 1,000 per class', async () => {
    const ds = await loadFashionMnist({ split: 'test' });
    assert.equal(ds.n, 10_000);
    assert.deepEqual(labelHistogram(ds.y, 10), new Array(10).fill(1000));
    const { min, max, mean } = pixelStats(ds);
    assert.deepEqual([min, max], [0, 1]);
    assert.ok(Math.abs(mean - 0.2869) < 0.0005, `mean ${mean}`);
  });

  it('interleaves classes so that a limited prefix is balanced', async () => {
    const ds = await loadFashionMnist({ split: 'train', limit: 50 });
    assert.equal(ds.n, 50);
    assert.deepEqual(labelHistogram(ds.y, 10), new Array(10).fill(5));
    assert.equal(await loadFashionMnist({ split: 'train' }), await loadFashionMnist({ split: 'train' }));
  });

  it('validates its options', async () => {
    await assert.rejects(loadFashionMnist({ split: 'all' as 'train' }), { code: 'DATA_INVALID_OPTION' });
    await assert.rejects(loadFashionMnist({ split: 'test', limit: 1.5 }), { code: 'DATA_INVALID_OPTION' });
  });
});
