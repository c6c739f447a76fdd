/**
 * FedAvg's upload: all model parameters after local training, with the averaging weight
 * (the private training-set size) and the model signature the coordinator checks.
 */
import { encodeWeights, weightEncodingValue } from '@mutua/proto';
import type { Body } from './connection-loop.ts';
import type { UploadBuilder, UploadInput } from './upload-builder.ts';

export const fedavgUpload: UploadBuilder = {
  distills: false,
  async build({ learner, task, welcome, metrics, localMetrics, signature }: UploadInput): Promise<Body> {
    if (!learner.getWeights) throw new TypeError('a fedavg learner needs getWeights');
    const values = await learner.getWeights();
    const encoding = welcome.weightEncoding;
    return {
      weights: {
        round: task.round,
        encoding: weightEncodingValue(encoding),
        count: values.length,
        payload: encodeWeights(values, encoding, { segments: learner.weightSegments }),
        numSamples: learner.numSamples ?? metrics.samples,
        modelSignature: signature,
        metrics: localMetrics,
      },
    };
  },
};
