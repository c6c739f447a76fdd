/** The Welcome an admitted participant is sent: its identity, the federation, the public set, the wire limits. */
import {
  aggregationValue,
  compressionValue,
  type EnvelopeInit,
  encodingValue,
  modeValue,
  strategyValue,
  weightEncodingValue,
} from '@mutua/proto';
import type { Admission } from './participant-connection.ts';

export type WelcomeInit = NonNullable<EnvelopeInit['welcome']>;

export function welcomeFor(
  a: Admission,
  limits: { heartbeatIntervalMs: number; maxFrameBytes: number },
): WelcomeInit {
  const f = a.federation;
  const s = f.settings;
  const welcome: WelcomeInit = {
    participantId: a.participantId,
    resumeToken: a.resumeToken,
    resumed: a.resumed,
    federation: {
      federationId: f.id,
      name: f.name,
      task: { inputShape: s.task.inputShape, numClasses: s.task.numClasses, labelNames: s.task.labelNames },
      strategy: strategyValue(s.strategy),
      mode: modeValue(s.mode),
      temperature: s.temperature,
      lambda: s.lambda,
      aggregation: aggregationValue(s.aggregation),
      batchSize: s.batchSize,
      encodings: s.encodings.map((e) => encodingValue(e)),
      targetEncodings: (s.targetEncodings ?? []).map((e) => encodingValue(e)),
      compressions: (s.compressions ?? []).map((c) => compressionValue(c)),
      topk: s.topk,
      sync: s.sync,
      async: s.async,
      localEpochs: s.localEpochs,
      distillEpochs: s.distillEpochs,
      modelArch: s.modelArch,
      seed: s.seed,
      activeRows: s.activeRows,
      delta: s.delta ?? false,
      deltaThreshold: s.deltaThreshold ?? 0,
    },
    publicSet: {
      id: f.publicSet.sha256,
      sha256: Buffer.from(f.publicSet.sha256, 'hex'),
      sampleCount: f.publicSet.sampleCount,
      shape: f.publicSet.shape,
      byteLength: f.publicSet.byteLength,
      url: `/v1/public-sets/${f.publicSet.sha256}`,
      format: 'mutua-public-v1',
    },
    uploadEncoding: encodingValue(a.uploadEncoding),
    downloadEncoding: encodingValue(a.downloadEncoding),
    payloadCompression: compressionValue(a.compression ?? 'none'),
    heartbeatIntervalMs: limits.heartbeatIntervalMs,
    maxFrameBytes: limits.maxFrameBytes,
    currentRound: a.currentRound,
    activeRows: a.activeRows,
    payloadDelta: a.delta !== null,
    derivedIndices: a.batchRule !== null,
  };
  if (s.strategy === 'fedavg') {
    const weights = a.weightEncoding ?? 'float32';
    welcome.weightEncoding = weightEncodingValue(weights);
    // Clients that predate weight_encoding send float16 weights when upload_encoding is float16.
    if (weights !== 'uint8') welcome.uploadEncoding = encodingValue(weights);
  }
  return welcome;
}
