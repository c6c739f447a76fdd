/**
 * Mutual distillation's upload: the learner's tempered probabilities on the task's public
 * samples, in the encoding the Welcome chose (top-k keeps the federation's k classes).
 */
import { compressionValue, deflateRawAsync, encodePredictions, encodingValue } from '@mutua/proto';
import type { Body } from './connection-loop.ts';
import type { UploadBuilder, UploadInput } from './upload-builder.ts';

export const mutualUpload: UploadBuilder = {
  distills: true,
  async build({ learner, task, welcome, localMetrics, deltas }: UploadInput): Promise<Body> {
    const fed = welcome.federation;
    const n = task.predictIndices.length;
    const C = fed.numClasses;
    const probs = await learner.predict(task.predictIndices, fed.temperature);
    if (probs.length !== n * C) {
      throw new RangeError(`predict returned ${probs.length} values for ${n} samples x ${C} classes`);
    }
    const encoding = welcome.uploadEncoding;
    const k = encoding === 'topk' ? Math.min(C, Math.max(1, fed.topk || C)) : 0;
    // With deltas negotiated: only the rows the coordinator does not already hold (payload-delta.ts).
    const { payload: encoded, deltaBase } =
      welcome.delta && deltas
        ? deltas.encodeUpload(probs, task.predictIndices, C, encoding, k, welcome.delta.threshold, task.round)
        : {
            payload: encodePredictions(probs, n, C, encoding, encoding === 'topk' ? { k } : {}),
            deltaBase: 0,
          };
    const compression = welcome.compression ?? 'none';
    return {
      predictions: {
        round: task.round,
        encoding: encodingValue(encoding),
        rows: n,
        classes: C,
        k,
        payload: compression === 'deflate-raw' ? await deflateRawAsync(encoded) : encoded,
        metrics: localMetrics,
        compression: compressionValue(compression),
        deltaBase,
      },
    };
  },
};
