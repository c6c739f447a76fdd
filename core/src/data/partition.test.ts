import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dataset } from './dataset.ts';
import {
  federatedSplit,
  labelHistogram,
  labelSkew,
  partitionDirichlet,
  totalVariation,
} from './partition.ts';
import { Rng } from './rng.ts';

/** n samples over `classes` classes in random order; feature 0 of sample i is i, to trace samples. */
function fakeDataset(n: number, classes: number, seed = 0): Dataset {
  const rng = new Rng(seed);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % classes;
  rng.shuffle(y);
  const x = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = y[i]!;
  }
  return { x, y, n, shape: [2], numClasses: classes };
}

function assertPartitionOf(parts: number[][], n: number): void {
  const seen = new Uint8Array(n);
  for (const part of parts) {
    for (const i of part) {
      assert.ok(Number.isInteger(i) && i >= 0 && i < n, `index ${i}`);
      assert.equal(seen[i], 0, `index ${i} appears twice`);
      seen[i] = 1;
    }
  }
  assert.ok(
    seen.every((v) => v === 1),
    'some index is unused',
  );
}

describe('partitionDirichlet', () => {
  const { y } = fakeDataset(3000, 10);

  it('is reproducible from the seed, and another seed gives another split', () => {
    const a = partitionDirichlet(y, 8, 0.5, 11);
    assert.deepEqual(partitionDirichlet(y, 8, 0.5, 11), a);
    assert.notDeepEqual(partitionDirichlet(y, 8, 0.5, 12), a);
  });

  it('puts every index in exactly one client, ascending', () => {
    for (const alpha of [0.05, 1, 100]) {
      const parts = partitionDirichlet(y, 7, alpha, 3);
      assert.equal(parts.length, 7);
      assertPartitionOf(parts, y.length);
      for (const part of parts)
        assert.deepEqual(
          part,
          [...part].sort((a, b) => a - b),
        );
    }
  });

  it('grows more label-skewed as alpha falls', () => {
    const skew = (alpha: number) => {
      let total = 0;
      for (let seed = 0; seed < 5; seed++) total += labelSkew(y, partitionDirichlet(y, 10, alpha, seed), 10);
      return total / 5;
    };
    const [iid, mid, skewed] = [skew(100), skew(1), skew(0.1)];
    assert.ok(iid < 0.1, `alpha 100: ${iid}`);
    assert.ok(mid > iid + 0.15, `alpha 1: ${mid} vs ${iid}`);
    assert.ok(skewed > mid + 0.15, `alpha 0.1: ${skewed} vs ${mid}`);
    assert.ok(skewed < 0.9, 'TV to the global distribution is below 1 - 1/10');
  });

  it('redraws with the next seed until every client has minPerClient samples', () => {
    const small = fakeDataset(200, 10).y;
    const parts = partitionDirichlet(small, 20, 0.1, 1, { minPerClient: 3 });
    assertPartitionOf(parts, small.length);
    for (const part of parts) assert.ok(part.length >= 3, `a client has ${part.length}`);
    // The result is what the plain scheme gives for the first seed that satisfies the minimum.
    const unconstrained = (seed: number) => partitionDirichlet(small, 20, 0.1, seed, { minPerClient: 0 });
    let seed = 1;
    while (unconstrained(seed).some((p) => p.length < 3)) seed++;
    assert.ok(seed > 1, 'the test needs a first seed that fails the minimum');
    assert.deepEqual(parts, unconstrained(seed));
  });

  it('gives up with a coded error when the minimum cannot be met', () => {
    assert.throws(() => partitionDirichlet(y, 10, 1, 0, { minPerClient: 301 }), {
      code: 'DATA_PARTITION_MIN_UNREACHABLE',
    });
    assert.throws(() => partitionDirichlet(y, 10, 0.01, 0, { minPerClient: 290, maxAttempts: 3 }), {
      code: 'DATA_PARTITION_MIN_UNREACHABLE',
      message: /3 attempts/,
    });
  });

  it('balance gives no more of a class to clients already at n / numClients', () => {
    const parts = partitionDirichlet(y, 10, 0.3, 5, { balance: true });
    assertPartitionOf(parts, y.length);
    const cap = y.length / 10;
    for (const part of parts) {
      // Classes are split in order 0, 1, ...: once a client holds `cap` samples it gets no more.
      const hist = labelHistogram(y, 10, part);
      let before = 0;
      for (let c = 0; c < 10; c++) {
        if (before >= cap) assert.equal(hist[c], 0, `class ${c} went to a full client`);
        before += hist[c]!;
      }
    }
    const meanSpread = (balance: boolean) => {
      let total = 0;
      for (let seed = 0; seed < 10; seed++) {
        const sizes = partitionDirichlet(y, 10, 0.3, seed, { balance }).map((p) => p.length);
        total += Math.sqrt(sizes.reduce((acc, n) => acc + (n - cap) ** 2, 0) / sizes.length);
      }
      return total / 10;
    };
    assert.ok(meanSpread(true) < meanSpread(false) * 0.85, `${meanSpread(true)} vs ${meanSpread(false)}`);
  });

  it('validates its arguments', () => {
    assert.throws(() => partitionDirichlet(y, 0, 1, 0), { code: 'DATA_INVALID_OPTION' });
    assert.throws(() => partitionDirichlet(y, 2, 0, 0), { code: 'DATA_INVALID_OPTION' });
    assert.throws(() => partitionDirichlet(y, 2, Number.POSITIVE_INFINITY, 0), {
      code: 'DATA_INVALID_OPTION',
    });
    assert.throws(() => partitionDirichlet(y, 2, 1, 0.5), { code: 'DATA_INVALID_OPTION' });
    assert.throws(() => partitionDirichlet(new Int32Array([0, -1]), 1, 1, 0), {
      code: 'DATA_LABEL_OUT_OF_RANGE',
    });
  });
});

describe('labelHistogram / totalVariation / labelSkew', () => {
  it('count labels and measure distances', () => {
    const labels = new Int32Array([0, 1, 1, 2, 2, 2]);
    assert.deepEqual(labelHistogram(labels, 4), [1, 2, 3, 0]);
    assert.deepEqual(labelHistogram(labels, 3, [1, 3, 4]), [0, 1, 2]);
    assert.throws(() => labelHistogram(labels, 2), { code: 'DATA_LABEL_OUT_OF_RANGE' });
    assert.equal(totalVariation([1, 0], [0, 5]), 1);
    assert.equal(totalVariation([2, 2], [5, 5]), 0);
    assert.equal(
      labelSkew(
        labels,
        [
          [0, 1, 3],
          [2, 4, 5],
        ],
        3,
      ),
      labelSkew(
        labels,
        [
          [2, 4, 5],
          [0, 1, 3],
        ],
        3,
      ),
    );
    const oneClassEach = labelSkew(new Int32Array([0, 0, 1, 1]), [[0, 1], [2, 3], []], 2);
    assert.equal(oneClassEach, 0.5, 'empty clients are ignored');
  });
});

describe('federatedSplit', () => {
  const ds = fakeDataset(2000, 10, 1);
  const options = { clients: 6, alpha: 0.5, seed: 42, publicSize: 300, testSize: 200 };

  it('uses every sample exactly once across clients, public and test', () => {
    const split = federatedSplit(ds, options);
    assert.equal(split.publicIndices.length, 300);
    assert.equal(split.testIndices.length, 200);
    assert.equal(split.clients.length, 6);
    assertPartitionOf([...split.clientIndices, split.publicIndices, split.testIndices], ds.n);
  });

  it('builds each data set from exactly its indices', () => {
    const split = federatedSplit(ds, options);
    const check = (part: Dataset, indices: number[]) => {
      assert.equal(part.n, indices.length);
      assert.deepEqual(part.shape, ds.shape);
      assert.equal(part.numClasses, 10);
      indices.forEach((i, k) => {
        assert.equal(part.x[2 * k], i);
        assert.equal(part.y[k], ds.y[i]);
      });
    };
    split.clients.forEach((c, j) => {
      check(c, split.clientIndices[j]!);
    });
    check(split.public, split.publicIndices);
    check(split.test, split.testIndices);
  });

  it('is reproducible from the seed, and another seed gives another split', () => {
    const a = federatedSplit(ds, options);
    const b = federatedSplit(ds, options);
    assert.deepEqual(
      [a.clientIndices, a.publicIndices, a.testIndices],
      [b.clientIndices, b.publicIndices, b.testIndices],
    );
    const c = federatedSplit(ds, { ...options, seed: 43 });
    assert.notDeepEqual(a.publicIndices, c.publicIndices);
    assert.notDeepEqual(a.testIndices, c.testIndices);
    assert.notDeepEqual(a.clientIndices, c.clientIndices);
  });

  it('stratifies the hold-outs by default and can sample them at random', () => {
    const split = federatedSplit(ds, options);
    assert.deepEqual(labelHistogram(ds.y, 10, split.publicIndices), new Array(10).fill(30));
    assert.deepEqual(labelHistogram(ds.y, 10, split.testIndices), new Array(10).fill(20));
    const random = federatedSplit(ds, { ...options, stratify: false });
    assert.notDeepEqual(labelHistogram(ds.y, 10, random.publicIndices), new Array(10).fill(30));
    assertPartitionOf([...random.clientIndices, random.publicIndices, random.testIndices], ds.n);
  });

  it('rounds stratified quotas by largest remainder', () => {
    const uneven: Dataset = {
      ...ds,
      y: new Int32Array(ds.n).map((_, i) => (i < 1000 ? 0 : i < 1700 ? 1 : 2)),
    };
    const split = federatedSplit(uneven, { ...options, publicSize: 7, testSize: 0 });
    assert.deepEqual(labelHistogram(uneven.y, 3, split.publicIndices), [4, 2, 1]); // exact 3.5, 2.45, 1.05
  });

  it('allows an empty test set and refuses hold-outs that leave nothing to train on', () => {
    const split = federatedSplit(ds, { ...options, testSize: 0 });
    assert.equal(split.test.n, 0);
    assert.throws(() => federatedSplit(ds, { ...options, publicSize: 1800 }), {
      code: 'DATA_INVALID_OPTION',
    });
    assert.throws(() => federatedSplit(ds, { ...options, testSize: -1 }), { code: 'DATA_INVALID_OPTION' });
  });
});
