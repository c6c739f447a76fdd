import assert from 'node:assert/strict';
import { test } from 'node:test';
import { followsBatchRule, mergedBatches, publicBatch } from './batch-rule.ts';

const rule = { sampleCount: 10, batchSize: 4, seed: 1 };

test('batch rule: golden batches of PROTOCOL.md ("Derived indices")', () => {
  assert.deepEqual(Array.from(publicBatch(rule, 1)), [7, 8, 9, 2]);
  assert.deepEqual(Array.from(publicBatch(rule, 2)), [0, 4, 6, 5]);
  assert.deepEqual(Array.from(publicBatch(rule, 3)), [1, 7, 8, 0]);
  assert.deepEqual(Array.from(mergedBatches(rule, [3, 2])), [1, 7, 8, 0, 4, 6, 5]);
});

test('batch rule: a pass covers distinct samples, passes differ, other seeds differ', () => {
  const big = { sampleCount: 2000, batchSize: 500, seed: 7 };
  const pass = new Set<number>();
  for (let v = 1; v <= 4; v++) for (const i of publicBatch(big, v)) pass.add(i);
  assert.equal(pass.size, 2000);
  assert.notDeepEqual(Array.from(publicBatch(big, 1)), Array.from(publicBatch(big, 5)));
  assert.notDeepEqual(Array.from(publicBatch(big, 1)), Array.from(publicBatch({ ...big, seed: 8 }, 1)));
  // Deterministic, and the cache hands out copies: mutating a batch changes nothing.
  const a = publicBatch(big, 2);
  a[0] = 99_999;
  assert.notEqual(publicBatch(big, 2)[0], 99_999);
});

test('batch rule: batch larger than the public set takes the whole set; version 0 is empty', () => {
  assert.equal(publicBatch({ sampleCount: 6, batchSize: 500, seed: 3 }, 4).length, 6);
  assert.equal(new Set(publicBatch({ sampleCount: 6, batchSize: 500, seed: 3 }, 4)).size, 6);
  assert.equal(publicBatch(rule, 0).length, 0);
});

test('followsBatchRule: exact lists only', () => {
  assert.equal(followsBatchRule(rule, [2], Uint32Array.from([0, 4, 6, 5])), true);
  assert.equal(followsBatchRule(rule, [2], Uint32Array.from([0, 4, 5, 6])), false);
  assert.equal(followsBatchRule(rule, [2], Uint32Array.from([0, 4, 6])), false);
  assert.equal(followsBatchRule(rule, [3, 2], Uint32Array.from([1, 7, 8, 0, 4, 6, 5])), true);
});
