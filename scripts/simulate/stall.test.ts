import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stalledAsync } from './stall.ts';

describe('async end-of-run stall', () => {
  it('is when everyone still running contributed to the current version after others left', () => {
    const states = [
      { running: false, lastRound: 38 },
      { running: true, lastRound: 40 },
      { running: true, lastRound: 40 },
    ];
    assert.deepEqual(stalledAsync(states, 40), [1, 2]);
  });

  it('is not while a running participant works on an older version or has not reported yet', () => {
    assert.equal(
      stalledAsync(
        [
          { running: false, lastRound: 38 },
          { running: true, lastRound: 40 },
          { running: true, lastRound: 39 },
        ],
        40,
      ),
      null,
    );
    assert.equal(
      stalledAsync(
        [
          { running: false, lastRound: 38 },
          { running: true, lastRound: undefined },
        ],
        40,
      ),
      null,
    );
  });

  it('is not when nobody left yet, or everyone did', () => {
    assert.equal(stalledAsync([{ running: true, lastRound: 5 }], 5), null);
    assert.equal(stalledAsync([{ running: false, lastRound: 5 }], 5), null);
  });
});
