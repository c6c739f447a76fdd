/**
 * A model's TF.js layers-format artifacts with float32, float16 or uint8 weights
 * (quantize.ts), for any IOHandler: `tf.loadLayersModel` decodes the quantized weights as
 * they are. Isomorphic; writing files (and gzip) is the caller's job.
 */
import * as tf from '@tensorflow/tfjs';
import { encodeQuantizedWeights, type NamedWeight, type WeightEncoding } from './quantize.ts';

/** The weights of `model` as plain arrays, in model.weights order (the manifest order). */
export function readWeights(model: tf.LayersModel): NamedWeight[] {
  return model.weights.map((w) => ({
    name: w.originalName,
    shape: w.shape as number[],
    values: Float32Array.from(w.read().dataSync() as Float32Array),
  }));
}

export function quantizedArtifacts(
  model: tf.LayersModel,
  encoding: WeightEncoding,
  metadata?: Record<string, unknown>,
): tf.io.ModelArtifacts {
  const { specs, data } = encodeQuantizedWeights(readWeights(model), encoding);
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: model.toJSON(null, false) as tf.io.ModelArtifacts['modelTopology'],
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs} (Mutua, ${encoding} weights)`,
    convertedBy: null,
    weightSpecs: specs as tf.io.WeightsManifestEntry[],
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
  };
  if (metadata) artifacts.userDefinedMetadata = { mutua: metadata as object };
  return artifacts;
}

/** Fraction of exact zeros among the model's weights of rank >= 2 (the pruned kernels). */
export function kernelSparsity(model: tf.LayersModel): number {
  let zeros = 0;
  let total = 0;
  for (const w of model.weights) {
    if (w.shape.length < 2) continue;
    const v = w.read().dataSync();
    total += v.length;
    for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
  }
  return total === 0 ? 0 : zeros / total;
}
