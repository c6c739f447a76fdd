import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as core from './index.ts';

it('the barrel exposes each part of the core without name clashes', () => {
  for (const name of [
    'createModel',
    'Trainer',
    'mutualKlLoss',
    'aggregate',
    'ConsensusAccumulator',
    'federatedSplit',
    'ParticipantSession',
    'registerWasmGradientKernels',
  ]) {
    assert.equal(typeof (core as Record<string, unknown>)[name], 'function', name);
  }
});
