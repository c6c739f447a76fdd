/**
 * The stored form of a published consensus (db Consensus.payload). Recovery never reads it
 * back (it re-aggregates the submissions of `sourceVersions`); it is kept for audit and for
 * export: the global student (`mutua federation distill`) is trained on these targets.
 *
 * - fedavg, encoding 'float32': the global parameters, float32 little-endian.
 * - mutual, encoding 'float32-indexed' (MUTUA_INDEXED_CONSENSUS): self-describing, so a
 *   reader needs neither the rounds' batches nor the active-rows split:
 *
 *       u32 B                                   batches
 *       B × (u32 version, u32 rows)             each batch's round/version and row count
 *       Σrows × u32                             public-set index of every row, batch after batch
 *       Σrows × C × f32                         the aggregate over all contributors, row-major
 *
 *   all little-endian; C = classes (the Consensus row's `classes` column).
 * - mutual, encoding 'float32' (stored before the indexed form): the rows alone, batch after
 *   batch, without their indices; services/consensus-targets.ts recovers them from the
 *   source rounds' batches when the payload's length shows every batch was whole.
 */
import type { Consensus } from '../engine/strategy.ts';

export const INDEXED_CONSENSUS = 'float32-indexed';

export interface EncodedConsensus {
  payload: Uint8Array;
  encoding: string;
  rows: number;
  classes: number;
  contributors: number;
}

export function encodeConsensus(c: Consensus): EncodedConsensus {
  if (c.kind === 'fedavg') {
    const payload = new Uint8Array(
      c.params.buffer.slice(c.params.byteOffset, c.params.byteOffset + c.params.byteLength),
    );
    return { payload, encoding: 'float32', rows: 0, classes: 0, contributors: 0 };
  }
  const B = c.batches.length;
  let rows = 0;
  let contributors = 0;
  for (const b of c.batches) {
    rows += b.indices.length;
    contributors = Math.max(contributors, b.contributions.length);
  }
  const first = c.batches.find((b) => b.indices.length > 0);
  const classes = first ? first.all.length / first.indices.length : 0;
  const header = 1 + 2 * B;
  const out = new ArrayBuffer(4 * (header + rows) + 4 * rows * classes);
  const view = new DataView(out);
  view.setUint32(0, B, true);
  let at = 4;
  for (const b of c.batches) {
    view.setUint32(at, b.version, true);
    view.setUint32(at + 4, b.indices.length, true);
    at += 8;
  }
  for (const b of c.batches)
    for (const i of b.indices) {
      view.setUint32(at, i, true);
      at += 4;
    }
  for (const b of c.batches)
    for (const p of b.all) {
      view.setFloat32(at, p, true);
      at += 4;
    }
  return { payload: new Uint8Array(out), encoding: INDEXED_CONSENSUS, rows, classes, contributors };
}

export interface ConsensusTargets {
  /** Public-set index of each row. */
  indices: Uint32Array;
  /** rows×classes probabilities. */
  probs: Float32Array;
  classes: number;
}

/** The rows of an indexed mutual consensus; throws RangeError on bytes that do not fit the layout. */
export function decodeIndexedConsensus(payload: Uint8Array, classes: number): ConsensusTargets {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const fail = (why: string) => new RangeError(`stored consensus is not ${INDEXED_CONSENSUS}: ${why}`);
  if (payload.byteLength < 4) throw fail('shorter than its header');
  const B = view.getUint32(0, true);
  if (4 + 8 * B > payload.byteLength) throw fail(`${B} batches do not fit in ${payload.byteLength} bytes`);
  let rows = 0;
  for (let b = 0; b < B; b++) rows += view.getUint32(4 + 8 * b + 4, true);
  const indexAt = 4 + 8 * B;
  const expected = indexAt + 4 * rows + 4 * rows * classes;
  if (!Number.isInteger(classes) || classes < 1 || expected !== payload.byteLength)
    throw fail(`${rows} rows of ${classes} classes need ${expected} bytes, not ${payload.byteLength}`);
  const indices = new Uint32Array(rows);
  const probs = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) indices[r] = view.getUint32(indexAt + 4 * r, true);
  const probAt = indexAt + 4 * rows;
  for (let k = 0; k < probs.length; k++) probs[k] = view.getFloat32(probAt + 4 * k, true);
  return { indices, probs, classes };
}
