/** Argument checks shared by the loss, the trainer and inference: each throws a RangeError or TypeError naming the problem. */
import type * as tf from '@tensorflow/tfjs';
import { type Dataset, sampleSize } from '../data/dataset.ts';

export function modelIo(model: tf.LayersModel): { inputShape: number[]; numClasses: number } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new TypeError('expected a model with one input and one output');
  }
  const inShape = model.inputs[0]!.shape.slice(1);
  const outShape = model.outputs[0]!.shape;
  if (inShape.some((d) => d === null) || outShape.length !== 2 || outShape[1] === null) {
    throw new TypeError(
      `expected a model with a fixed input shape and [batch, classes] logits, got ` +
        `[${model.inputs[0]!.shape}] -> [${outShape}]`,
    );
  }
  return { inputShape: inShape as number[], numClasses: outShape[1] };
}

export function checkSampleShape(where: string, shape: readonly number[], inputShape: number[]): void {
  if (shape.length !== inputShape.length || shape.some((d, i) => d !== inputShape[i])) {
    throw new RangeError(
      `${where}: samples of shape [${shape}] do not fit the model's input [${inputShape}]`,
    );
  }
}

export function checkBatch(where: string, x: tf.Tensor, inputShape: number[]): void {
  checkSampleShape(where, x.shape.slice(1), inputShape);
}

export function checkDataset(where: string, ds: Dataset, inputShape: number[], numClasses: number): void {
  checkSampleShape(where, ds.shape, inputShape);
  if (ds.numClasses !== numClasses) {
    throw new RangeError(`${where}: data set has ${ds.numClasses} classes, the model outputs ${numClasses}`);
  }
  if (ds.n < 1) throw new RangeError(`${where}: the data set is empty`);
  if (ds.x.length !== ds.n * sampleSize(ds.shape) || ds.y.length !== ds.n) {
    throw new RangeError(`${where}: data set arrays do not hold n = ${ds.n} samples of shape [${ds.shape}]`);
  }
  for (let i = 0; i < ds.n; i++) {
    const label = ds.y[i]!;
    if (label < 0 || label >= numClasses) {
      throw new RangeError(`${where}: label ${label} of sample ${i} outside [0, ${numClasses})`);
    }
  }
}

export function checkSameShape2d(where: string, a: tf.Tensor, b: tf.Tensor, bName: string): void {
  if (a.rank !== 2) throw new RangeError(`${where}: logits must be [batch, classes], got [${a.shape}]`);
  if (b.rank !== 2 || b.shape[0] !== a.shape[0] || b.shape[1] !== a.shape[1]) {
    throw new RangeError(`${where}: ${bName} must be [${a.shape}] like the logits, got [${b.shape}]`);
  }
}

export function checkTemperature(t: number): void {
  if (!(Number.isFinite(t) && t > 0)) throw new RangeError(`temperature must be a positive number, got ${t}`);
}

export function checkLambda(lambda: number): void {
  if (!(Number.isFinite(lambda) && lambda >= 0)) {
    throw new RangeError(`lambda must be a finite number >= 0, got ${lambda}`);
  }
}

export function positiveInt(name: string, v: number): number {
  if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** A copy of `targets` with each row scaled to sum to 1; rejects NaN, negatives, zero rows. */
export function normalizedTargets(targets: Float32Array, C: number): Float32Array {
  const n = targets.length / C;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `targets: ${targets.length} values are not a whole number (>= 1) of rows of ${C} classes`,
    );
  }
  const q = new Float32Array(targets.length);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const v = targets[i * C + c]!;
      if (!(Number.isFinite(v) && v >= 0)) {
        throw new RangeError(`targets: row ${i} has ${v}; probabilities must be finite and >= 0`);
      }
      sum += v;
    }
    if (sum === 0) throw new RangeError(`targets: row ${i} is all zeros`);
    for (let c = 0; c < C; c++) q[i * C + c] = targets[i * C + c]! / sum;
  }
  return q;
}
