import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFrame, encodeEnvelope } from '@mutua/proto';
import type { TaskView } from '../engine/runtime-types.ts';
import { resolveSettings } from '../engine/settings.ts';
import { encodeTask, encodeTaskEnvelope } from './wire-mapping.ts';

describe('encodeTaskEnvelope', () => {
  const settings = resolveSettings({ batchSize: 4 });
  const indices = Uint32Array.from([3, 1, 4, 1]);
  const probs = new Float32Array(40).fill(0.1);
  const task: TaskView = {
    round: 7,
    mode: 'async',
    predictIndices: indices,
    targets: { version: 6, indices, probs, contributors: 3 },
    globalWeights: null,
    deadlineUnixMs: 0,
    localEpochs: 2,
  };

  it('is byte for byte what encodeEnvelope produces, for every seq and reply_to', () => {
    for (const enc of ['uint8', 'float16', 'float32'] as const) {
      for (const [seq, replyTo] of [
        [1, 0],
        [300, 0],
        [2 ** 31, 5],
      ] as const) {
        const want = encodeEnvelope({ seq, replyTo, task: encodeTask(task, settings, enc) });
        assert.deepEqual(
          new Uint8Array(encodeTaskEnvelope(task, settings, enc, seq, replyTo)),
          new Uint8Array(want),
        );
      }
    }
  });

  it('decodes as a Task with the caller seq (the cached body is shared, the header is not)', () => {
    const a = decodeFrame(encodeTaskEnvelope(task, settings, 'uint8', 10), { maxFrameBytes: 1 << 20 });
    const b = decodeFrame(encodeTaskEnvelope(task, settings, 'uint8', 11), { maxFrameBytes: 1 << 20 });
    assert.ok(a.ok && a.body === 'task' && b.ok && b.body === 'task');
    assert.equal(a.envelope.seq, 10);
    assert.equal(b.envelope.seq, 11);
    assert.equal(Number(b.envelope.task.round), 7);
    assert.deepEqual(b.envelope.task.predictIndices, [3, 1, 4, 1]);
  });
});
