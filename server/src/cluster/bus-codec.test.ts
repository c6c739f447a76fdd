import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StoredSubmission } from '../db/store.ts';
import { BusCodecError, decodeUploads, encodeUploads, frame } from './bus-codec.ts';

function stored(participantId: string, version: number, bytes: number[]): StoredSubmission {
  return {
    participantId,
    version,
    staleness: 0,
    weight: 1,
    encoding: 'uint8',
    rows: 1,
    classes: bytes.length,
    payload: Uint8Array.from(bytes),
    receivedAt: new Date(1_700_000_000_000 + version),
    metrics: { trainLoss: 0.5 },
  } as unknown as StoredSubmission;
}

it('upload announcements: a group commit travels as one message and decodes in order', () => {
  const list = [
    { stored: stored('a', 3, [1, 2, 3]) },
    { stored: stored('b', 3, [250, 5, 0]), signature: 'sig' },
    { stored: stored('c', 4, []) },
  ];
  const back = decodeUploads(encodeUploads(list));
  assert.equal(back.length, 3);
  back.forEach((x, i) => {
    assert.equal(x.stored.participantId, list[i]!.stored.participantId);
    assert.equal(x.stored.version, list[i]!.stored.version);
    assert.deepEqual([...x.stored.payload], [...list[i]!.stored.payload]);
    assert.equal(x.stored.receivedAt.getTime(), list[i]!.stored.receivedAt.getTime());
    assert.deepEqual(x.stored.metrics, {}, 'metrics stay in the database');
  });
  assert.equal(back[1]!.signature, 'sig');
  // One upload is a list of one.
  assert.equal(decodeUploads(encodeUploads([list[0]!]))[0]!.stored.participantId, 'a');
});

it('reads the single-header form replicas sent before batching, and refuses mismatched parts', () => {
  const { payload, receivedAt, metrics: _m, ...rest } = stored('old', 7, [9, 9]);
  const legacy = frame({ ...rest, receivedAt: receivedAt.getTime() }, [payload]);
  const [x] = decodeUploads(legacy);
  assert.equal(x!.stored.participantId, 'old');
  assert.deepEqual([...x!.stored.payload], [9, 9]);
  assert.throws(() => decodeUploads(frame([{ ...rest }], [])), BusCodecError);
  assert.throws(() => decodeUploads(frame([{ version: 1 }], [payload])), BusCodecError);
});
