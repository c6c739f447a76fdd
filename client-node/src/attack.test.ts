import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '@mutua/core/data';
import type { Learner, LearnerTargets, TrainArgs } from '@mutua/core/session';
import { copyTargets, NOISE_LOGIT_STD, noisePredictions, withAttack, wrongLabels } from './attack.ts';

const C = 4;
// Rows: argmax 0, argmax 3 (wraps to 0), a tie between 1 and 2 (the first wins).
const honest = new Float32Array([0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 0.1, 0.4, 0.4, 0.1]);

function rowSums(p: Float32Array, classes: number): number[] {
  return Array.from({ length: p.length / classes }, (_, r) =>
    p.subarray(r * classes, (r + 1) * classes).reduce((a, b) => a + b, 0),
  );
}

describe('attack transforms', () => {
  it('wrong: every row one-hot on (argmax + 1) mod C', () => {
    assert.deepEqual(Array.from(wrongLabels(honest, C)), [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
    assert.throws(() => wrongLabels(new Float32Array(5), C), RangeError);
  });

  it('noise: valid distributions, mostly confident, reproducible from the seed, not the input', () => {
    const rows = 2000;
    const classes = 10;
    const a = noisePredictions(rows, classes, new Rng(7));
    assert.deepEqual(a, noisePredictions(rows, classes, new Rng(7)));
    assert.notDeepEqual(a, noisePredictions(rows, classes, new Rng(8)));
    for (const s of rowSums(a, classes)) assert.ok(Math.abs(s - 1) < 1e-5);
    assert.ok(a.every((v) => v >= 0 && v <= 1));
    let confident = 0;
    const argmaxCount = new Array<number>(classes).fill(0);
    for (let r = 0; r < rows; r++) {
      const row = a.subarray(r * classes, (r + 1) * classes);
      const max = Math.max(...row);
      if (max > 0.5) confident++;
      argmaxCount[row.indexOf(max)]!++;
    }
    assert.ok(confident / rows > 0.8, `confident rows ${confident / rows} with logit std ${NOISE_LOGIT_STD}`);
    // A random class each row: every class wins about a tenth of the rows.
    for (const n of argmaxCount)
      assert.ok(n > rows / classes / 2 && n < (rows / classes) * 2, String(argmaxCount));
  });

  it('copy: the targets for the samples they cover, its own predictions for the others', () => {
    const targets: LearnerTargets = {
      version: 3,
      indices: new Uint32Array([40, 10]),
      probs: new Float32Array([0.25, 0.25, 0.25, 0.25, 0, 0, 1, 0]),
      contributors: 2,
    };
    const out = copyTargets(honest, new Uint32Array([10, 20, 40]), targets, C);
    assert.deepEqual(out, new Float32Array([0, 0, 1, 0, 0.1, 0.1, 0.2, 0.6, 0.25, 0.25, 0.25, 0.25]));
    assert.deepEqual(copyTargets(honest, new Uint32Array([1, 2, 3]), undefined, C), honest);
    assert.throws(
      () => copyTargets(honest, new Uint32Array([1, 2]), targets, C),
      /3 rows of predictions for 2 indices/,
    );
  });
});

describe('withAttack', () => {
  const fake = (): Learner & { trained: number } => {
    const l = {
      trained: 0,
      async train() {
        l.trained++;
        return { trainLoss: 0.5, samples: 8 };
      },
      async predict(indices: Uint32Array) {
        const out = new Float32Array(indices.length * C);
        for (let r = 0; r < indices.length; r++) out[r * C + (indices[r]! % C)] = 1;
        return out;
      },
    };
    return l;
  };
  const args = (targets?: LearnerTargets): TrainArgs => ({
    round: 1,
    targets,
    temperature: 3,
    lambda: 1,
    localEpochs: 1,
    signal: new AbortController().signal,
    onProgress: () => {},
  });

  it('trains as the learner does and uploads the attack: wrong', async () => {
    const inner = fake();
    const l = withAttack(inner, 'wrong', C, 1);
    assert.deepEqual(await l.train(args()), { trainLoss: 0.5, samples: 8 });
    assert.equal(inner.trained, 1);
    assert.deepEqual(Array.from(await l.predict(new Uint32Array([0, 3]), 3)), [0, 1, 0, 0, 1, 0, 0, 0]);
  });

  it('copy keeps the newest targets the session handed to train, also across tasks without any', async () => {
    const l = withAttack(fake(), 'copy', C, 1);
    const idx = new Uint32Array([5, 6]);
    await l.train(args());
    assert.deepEqual(
      Array.from(await l.predict(idx, 3)),
      [0, 1, 0, 0, 0, 0, 1, 0],
      'no targets yet: its own',
    );
    const targets: LearnerTargets = {
      version: 1,
      indices: new Uint32Array([6]),
      probs: new Float32Array([0.5, 0.5, 0, 0]),
      contributors: 1,
    };
    await l.train(args(targets));
    await l.train(args());
    assert.deepEqual(Array.from(await l.predict(idx, 3)), [0, 1, 0, 0, 0.5, 0.5, 0, 0]);
  });

  it('noise ignores the model and differs between calls', async () => {
    const l = withAttack(fake(), 'noise', C, 1);
    const a = await l.predict(new Uint32Array([0, 1, 2]), 3);
    const b = await l.predict(new Uint32Array([0, 1, 2]), 3);
    assert.equal(a.length, 3 * C);
    assert.notDeepEqual(a, b);
    for (const s of rowSums(a, C)) assert.ok(Math.abs(s - 1) < 1e-5);
  });
});
