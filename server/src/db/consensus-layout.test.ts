import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Consensus, Contribution } from '../engine/strategy.ts';
import { decodeIndexedConsensus, encodeConsensus, INDEXED_CONSENSUS } from './consensus-layout.ts';

const C = 3;
const contribution = (participantId: string): Contribution => ({
  participantId,
  version: 1,
  staleness: 0,
  weight: 1,
});

describe('stored consensus layout', () => {
  it('mutual: every batch keeps its rows and their public indices, in order (active-rows parts included)', () => {
    const consensus: Consensus = {
      kind: 'mutual',
      version: 7,
      batches: [
        // Newest version first; version 7's batch split into its active rows and the rest.
        {
          version: 7,
          indices: Uint32Array.of(4, 1),
          contributions: [contribution('a'), contribution('b'), contribution('c')],
          all: Float32Array.of(0.5, 0.25, 0.25, 0.1, 0.8, 0.1),
        },
        {
          version: 7,
          indices: Uint32Array.of(9),
          contributions: [contribution('a')],
          all: Float32Array.of(0, 0, 1),
          fullOnly: true,
        },
        {
          version: 6,
          indices: Uint32Array.of(1, 30),
          contributions: [contribution('a'), contribution('b')],
          all: Float32Array.of(1, 0, 0, 0.2, 0.2, 0.6),
        },
      ],
    };
    const stored = encodeConsensus(consensus);
    assert.equal(stored.encoding, INDEXED_CONSENSUS);
    assert.equal(stored.rows, 5);
    assert.equal(stored.classes, C);
    assert.equal(stored.contributors, 3);
    const t = decodeIndexedConsensus(stored.payload, C);
    assert.deepEqual([...t.indices], [4, 1, 9, 1, 30]);
    assert.deepEqual(
      [...t.probs],
      [...Float32Array.of(0.5, 0.25, 0.25, 0.1, 0.8, 0.1, 0, 0, 1, 1, 0, 0, 0.2, 0.2, 0.6)],
    );
    // Encoding is deterministic: a replay after a restart stores the same bytes.
    assert.deepEqual(encodeConsensus(consensus).payload, stored.payload);
  });

  it('decoding refuses bytes that do not fit the layout', () => {
    const { payload } = encodeConsensus({
      kind: 'mutual',
      version: 1,
      batches: [
        { version: 1, indices: Uint32Array.of(0), contributions: [], all: Float32Array.of(0.5, 0.5, 0) },
      ],
    });
    assert.throws(() => decodeIndexedConsensus(payload.subarray(0, payload.byteLength - 4), C), RangeError);
    assert.throws(() => decodeIndexedConsensus(payload, 4), /1 rows of 4 classes need/);
    assert.throws(() => decodeIndexedConsensus(new Uint8Array(2), C), /shorter than its header/);
  });

  it('fedavg: the parameters as float32, unchanged', () => {
    const params = Float32Array.of(1.5, -2, 3);
    const stored = encodeConsensus({ kind: 'fedavg', version: 2, params });
    assert.equal(stored.encoding, 'float32');
    assert.deepEqual(new Float32Array(stored.payload.slice().buffer), params);
  });
});
