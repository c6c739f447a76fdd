import type * as tf from '@tensorflow/tfjs';

export function forward(model: tf.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  return model.apply(x, { training }) as tf.Tensor;
}

export function readAndDispose(t: tf.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}
