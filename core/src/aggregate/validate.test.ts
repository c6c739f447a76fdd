import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregationError, type AggregationErrorCode } from './errors.ts';
import { mean } from './mean.ts';

const f32 = (xs: number[]) => Float32Array.from(xs);

function rejects(fn: () => unknown, code: AggregationErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AggregationError, `expected AggregationError, got ${e}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

describe('input validation (through mean)', () => {
  const ok = f32([0.25, 0.75, 1, 0]);

  it('rejects an empty list', () => {
    rejects(() => mean([], 2), 'ERR_AGG_EMPTY', /no predictions/);
  });

  it('rejects an empty prediction', () => {
    rejects(() => mean([new Float32Array(0)], 2), 'ERR_AGG_EMPTY', /contribution 0 is empty/);
  });

  it('rejects a length that is not a multiple of numClasses', () => {
    rejects(() => mean([f32([0.5, 0.5, 1])], 2), 'ERR_AGG_SHAPE', /3 values, not a multiple of numClasses=2/);
  });

  it('rejects predictions of different lengths', () => {
    rejects(
      () => mean([ok, f32([0.5, 0.5])], 2),
      'ERR_AGG_SHAPE',
      /contribution 1 has 2 values but contribution 0 has 4/,
    );
  });

  it('rejects NaN, infinities, negatives and values above 1, naming row and class', () => {
    rejects(
      () => mean([ok, f32([0.5, 0.5, 0, Number.NaN])], 2),
      'ERR_AGG_VALUE',
      /contribution 1.*row 1, class 1 is NaN/,
    );
    rejects(
      () => mean([f32([Number.POSITIVE_INFINITY, 0])], 2),
      'ERR_AGG_VALUE',
      /row 0, class 0 is Infinity/,
    );
    rejects(() => mean([f32([-0.1, 1.1])], 2), 'ERR_AGG_VALUE', /-0.1.*outside \[0, 1\]/);
    rejects(() => mean([f32([0, 1.5])], 2), 'ERR_AGG_VALUE', /class 1 is 1.5/);
  });

  it('accepts float32 round-off just above 1', () => {
    assert.doesNotThrow(() => mean([f32([1.0000001, 0])], 2));
  });

  it('rejects bad weights', () => {
    rejects(
      () => mean([ok, ok], 2, [1, -1]),
      'ERR_AGG_WEIGHT',
      /contribution 1: weight must be a finite number >= 0, got -1/,
    );
    rejects(() => mean([ok], 2, [Number.NaN]), 'ERR_AGG_WEIGHT', /got NaN/);
    rejects(() => mean([ok], 2, [Number.POSITIVE_INFINITY]), 'ERR_AGG_WEIGHT', /got Infinity/);
    rejects(() => mean([ok, ok], 2, [1]), 'ERR_AGG_WEIGHT', /got 1 weights for 2 predictions/);
    rejects(() => mean([ok, ok], 2, [0, 0]), 'ERR_AGG_WEIGHT', /every weight is 0/);
  });

  it('rejects a bad class count', () => {
    rejects(() => mean([ok], 0), 'ERR_AGG_OPTION', /numClasses must be an integer >= 1, got 0/);
    rejects(() => mean([ok], 1.5), 'ERR_AGG_OPTION', /got 1.5/);
  });
});
