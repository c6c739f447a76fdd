// Rebuilding a participant's held upload rows from its stored uploads (restoreUploads): each
// public row's newest value, the newest upload's round as the base, nothing older than an
// upload whose payload retention dropped, and the values both sides took in for every
// encoding (stored payloads are the decoded values re-encoded).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeltaRows, decodePredictions, encodePredictions, type PredictionEncoding } from '@mutua/proto';
import type { UploadHistoryRow } from '../db/submissions-repository.ts';
import { heldUploads, restoreUploads } from './delta-payloads.ts';

const C = 4;

function probsFor(indices: number[], seed: number): Float32Array {
  const out = new Float32Array(indices.length * C);
  for (let r = 0; r < indices.length; r++) {
    let sum = 0;
    for (let j = 0; j < C; j++) {
      const v = 0.05 + (((indices[r]! * 7 + j * 3 + seed * 11) % 13) + 1) / 13;
      out[r * C + j] = v;
      sum += v;
    }
    for (let j = 0; j < C; j++) out[r * C + j] /= sum;
  }
  return out;
}

/** An upload as the coordinator took it in (values) and stored it (the values re-encoded). */
function upload(version: number, indices: number[], enc: PredictionEncoding, pruned = false) {
  const opts = { k: enc === 'topk' ? 2 : undefined };
  const values = decodePredictions(
    encodePredictions(probsFor(indices, version), indices.length, C, enc, opts),
    indices.length,
    C,
    enc,
    opts,
  );
  const stored = encodePredictions(values, indices.length, C, enc, opts);
  const row: UploadHistoryRow = {
    version,
    indices: Uint32Array.from(indices),
    encoding: enc,
    rows: indices.length,
    classes: C,
    k: enc === 'topk' ? 2 : 0,
    payload: pruned ? null : stored,
  };
  return { row, values };
}

function runtimeWith(history: UploadHistoryRow[]) {
  return { uploadHistory: async () => [...history].sort((a, b) => b.version - a.version) };
}

describe('restoreUploads', () => {
  for (const enc of ['uint8', 'soft4', 'soft2', 'soft1', 'float16', 'topk', 'hard'] as PredictionEncoding[]) {
    it(`${enc}: holds each row's newest value, as the participant does, with the newest round as base`, async () => {
      const ups = [upload(3, [1, 2, 3], enc), upload(5, [2, 3, 4], enc), upload(6, [4, 5], enc)];
      const participant = new DeltaRows(C); // what the participant took in, upload by upload
      for (const u of ups) participant.update(u.row.indices, u.values, u.row.version);
      const rt = runtimeWith(ups.map((u) => u.row));
      await restoreUploads(rt, 'p', C);
      const held = heldUploads(rt, 'p', C);
      assert.equal(held.version, 6);
      for (const i of [1, 2, 3, 4, 5]) assert.deepEqual(held.get(i), participant.get(i), `row ${i}`);
    });
  }

  it('stops at the first upload whose payload was pruned: older values may be stale', async () => {
    const ups = [upload(2, [1, 2], 'uint8'), upload(4, [2, 3], 'uint8', true), upload(7, [3, 4], 'uint8')];
    const rt = runtimeWith(ups.map((u) => u.row));
    await restoreUploads(rt, 'p', C);
    const held = heldUploads(rt, 'p', C);
    assert.equal(held.version, 7);
    assert.deepEqual(held.get(3), ups[2]!.values.subarray(0, C));
    assert.equal(held.get(2), undefined, "round 2's row 2 was replaced by round 4's, which is gone");
    assert.equal(held.get(1), undefined);
  });

  it('keeps what is held, and holds nothing when the store fails', async () => {
    const rt = { uploadHistory: async (): Promise<UploadHistoryRow[]> => Promise.reject(new Error('down')) };
    await restoreUploads(rt, 'p', C);
    assert.equal(heldUploads(rt, 'p', C).version, 0);
    const ok = runtimeWith([upload(1, [1], 'uint8').row]);
    const held = heldUploads(ok, 'q', C);
    held.update([9], new Float32Array(C).fill(0.25), 8);
    await restoreUploads(ok, 'q', C);
    assert.equal(heldUploads(ok, 'q', C).version, 8, 'rows already held are not replaced');
  });
});
