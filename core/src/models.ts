/**
 * Model factories. Every participant builds its model here, so architectures are named
 * and validated once, and the output layer always emits raw LOGITS: the (tempered)
 * softmax belongs to the loss and to prediction, never to the model, so that
 * distillation can divide logits by T before normalising (see distill.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { isModelArch, MODEL_ARCHS, type ModelArch, ModelConfigError } from './model-archs.ts';

export {
  isModelArch,
  MODEL_ARCHS,
  type ModelArch,
  ModelConfigError,
  type ModelErrorCode,
} from './model-archs.ts';

export interface CreateModelOptions {
  /** Shape of one sample without the batch axis, e.g. [28, 28, 1] (NHWC images) or [784]. */
  inputShape: readonly number[];
  numClasses: number;
  /**
   * Seed for the weight initializers. With a seed, two calls build identical weights
   * (on any backend: tfjs draws seeded initial values in JS). Without one, weights are random.
   */
  seed?: number;
}

/**
 * Builds an uncompiled model for `arch` (training uses a custom step, so no compile()).
 *
 * - `mlp`: flatten, dense 200 relu, dense 200 relu, dense C.
 * - `cnn-small`: conv3x3·16 relu valid, maxpool 2, conv3x3·32 relu valid, maxpool 2,
 *   flatten, dense 64 relu, dense C. Needs images of at least 10×10.
 * - `cnn-fedavg`: the CNN of McMahan et al. 2017 (FedAvg): conv5x5·32 relu same,
 *   maxpool 2, conv5x5·64 relu same, maxpool 2, flatten, dense 512 relu, dense C.
 *   Needs images of at least 4×4.
 * - `mlp-tiny`: flatten, dense 24 relu, dense C (19,090 params on MNIST): a small model
 *   for compression experiments (≤ 20k parameters).
 * - `cnn-tiny`: a depthwise-separable CNN (9,018 params on MNIST): conv3x3·16 relu same,
 *   maxpool 2, separable conv3x3 16→32 relu same, maxpool 2, separable conv3x3 32→64
 *   relu same, maxpool 2, flatten, dense C. Needs images of at least 8×8. Its depthwise
 *   gradients run on wasm through core/src/kernels.
 *
 * Kernels use Glorot-uniform (the tfjs default) and biases zeros; with `seed`, each
 * layer's initializer gets its own seed derived from it.
 */
export function createModel(arch: ModelArch, opts: CreateModelOptions): tf.LayersModel {
  if (!isModelArch(arch)) {
    throw new ModelConfigError(
      'ERR_MODEL_UNKNOWN_ARCH',
      `unknown model architecture ${JSON.stringify(arch)}; expected one of ${MODEL_ARCHS.join(', ')}`,
    );
  }
  if (opts === null || typeof opts !== 'object') {
    throw new ModelConfigError(
      'ERR_MODEL_BAD_INPUT_SHAPE',
      'createModel: options { inputShape, numClasses } are required',
    );
  }
  const inputShape = validateInputShape(opts.inputShape);
  const { numClasses, seed } = opts;
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new ModelConfigError(
      'ERR_MODEL_BAD_NUM_CLASSES',
      `numClasses must be an integer >= 2, got ${String(numClasses)}`,
    );
  }
  if (seed !== undefined && !Number.isFinite(seed)) {
    throw new ModelConfigError('ERR_MODEL_BAD_SEED', `seed must be a finite number, got ${String(seed)}`);
  }

  const init = initializers(seed);
  const model = tf.sequential({ name: arch });
  switch (arch) {
    case 'mlp':
      // tfjs' Flatten rejects rank-1 samples; those are already flat.
      if (inputShape.length > 1) model.add(tf.layers.flatten({ inputShape }));
      model.add(
        tf.layers.dense({
          units: 200,
          activation: 'relu',
          ...(inputShape.length > 1 ? {} : { inputShape }),
          ...init(),
        }),
      );
      model.add(tf.layers.dense({ units: 200, activation: 'relu', ...init() }));
      model.add(tf.layers.dense({ units: numClasses, ...init() }));
      break;
    case 'cnn-small':
      requireImage(arch, inputShape, (side) => Math.floor((Math.floor((side - 2) / 2) - 2) / 2));
      model.add(conv(16, 3, 'valid', init, inputShape));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      model.add(conv(32, 3, 'valid', init));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      model.add(tf.layers.flatten());
      model.add(tf.layers.dense({ units: 64, activation: 'relu', ...init() }));
      model.add(tf.layers.dense({ units: numClasses, ...init() }));
      break;
    case 'cnn-fedavg':
      requireImage(arch, inputShape, (side) => Math.floor(Math.floor(side / 2) / 2));
      model.add(conv(32, 5, 'same', init, inputShape));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      model.add(conv(64, 5, 'same', init));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      model.add(tf.layers.flatten());
      model.add(tf.layers.dense({ units: 512, activation: 'relu', ...init() }));
      model.add(tf.layers.dense({ units: numClasses, ...init() }));
      break;
    case 'mlp-tiny':
      if (inputShape.length > 1) model.add(tf.layers.flatten({ inputShape }));
      model.add(
        tf.layers.dense({
          units: 24,
          activation: 'relu',
          ...(inputShape.length > 1 ? {} : { inputShape }),
          ...init(),
        }),
      );
      model.add(tf.layers.dense({ units: numClasses, ...init() }));
      break;
    case 'cnn-tiny':
      requireImage(arch, inputShape, (side) => Math.floor(Math.floor(Math.floor(side / 2) / 2) / 2));
      model.add(conv(16, 3, 'same', init, inputShape));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      model.add(separable(32, init));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      model.add(separable(64, init));
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
      model.add(tf.layers.flatten());
      model.add(tf.layers.dense({ units: numClasses, ...init() }));
      break;
  }
  return model;
}

/** Number of scalar weights (trainable and not). */
export function countParams(model: tf.LayersModel): number {
  return model.countParams();
}

export interface LayerDescription {
  name: string;
  className: string;
  /** Output shape without the batch axis. */
  outputShape: number[];
  params: number;
}

export interface ModelDescription {
  name: string;
  /** Input shape without the batch axis. */
  inputShape: number[];
  numClasses: number;
  params: number;
  layers: LayerDescription[];
  /** One line, e.g. `cnn-small [28,28,1] -> 10 logits, 8 layers, 56,714 params`. */
  summary: string;
}

/** A plain-data description of a single-input, single-output model (for logs and the dashboard). */
export function describeModel(model: tf.LayersModel): ModelDescription {
  const inputShape = dropBatch(model.inputs[0]!.shape);
  const outputShape = dropBatch(model.outputs[0]!.shape);
  const numClasses = outputShape[outputShape.length - 1] ?? 0;
  const layers = model.layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    outputShape: dropBatch(layer.outputShape as (number | null)[]),
    params: layer.countParams(),
  }));
  const params = model.countParams();
  const summary =
    `${model.name} [${inputShape.join(',')}] -> ${numClasses} logits, ` +
    `${layers.length} layers, ${params.toLocaleString('en-US')} params`;
  return { name: model.name, inputShape, numClasses, params, layers, summary };
}

// --- internals -----------------------------------------------------------------------

/** tfjs does not export its Initializer type from the package root. */
type Initializer = ReturnType<typeof tf.initializers.zeros>;
type InitFactory = () => { kernelInitializer?: Initializer; biasInitializer?: Initializer };

function initializers(seed: number | undefined): InitFactory {
  if (seed === undefined) return () => ({});
  let layer = 0;
  return () => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, layer++) }),
    biasInitializer: tf.initializers.zeros(),
  });
}

/**
 * A distinct seed per layer that does not collide across neighbouring base seeds
 * (seed s layer 1 must differ from seed s+1 layer 0, or participants seeded 0..n-1
 * would share layers).
 */
function deriveSeed(seed: number, layer: number): number {
  let h = (Math.imul(Math.trunc(seed) | 0, 0x9e3779b1) ^ Math.imul(layer + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function conv(
  filters: number,
  kernelSize: number,
  padding: 'same' | 'valid',
  init: InitFactory,
  inputShape?: number[],
): tf.layers.Layer {
  return tf.layers.conv2d({
    filters,
    kernelSize,
    padding,
    activation: 'relu',
    dataFormat: 'channelsLast',
    ...(inputShape ? { inputShape } : {}),
    ...init(),
  });
}

/** A depthwise-separable 3×3 convolution (depthwise then pointwise), relu, same padding. */
function separable(filters: number, init: InitFactory): tf.layers.Layer {
  const depthwise = init();
  const pointwise = init();
  return tf.layers.separableConv2d({
    filters,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
    dataFormat: 'channelsLast',
    ...(depthwise.kernelInitializer ? { depthwiseInitializer: depthwise.kernelInitializer } : {}),
    ...(pointwise.kernelInitializer ? { pointwiseInitializer: pointwise.kernelInitializer } : {}),
    ...(depthwise.biasInitializer ? { biasInitializer: depthwise.biasInitializer } : {}),
  });
}

function validateInputShape(shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new ModelConfigError(
      'ERR_MODEL_BAD_INPUT_SHAPE',
      `inputShape must be a non-empty array of positive integers (one sample, no batch axis), got ${JSON.stringify(shape)}`,
    );
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || (d as number) < 1) {
      throw new ModelConfigError(
        'ERR_MODEL_BAD_INPUT_SHAPE',
        `inputShape dimensions must be positive integers, got ${JSON.stringify(shape)}` +
          (d === null || d === -1 ? ' (leave the batch axis out)' : ''),
      );
    }
  }
  return [...(shape as number[])];
}

function requireImage(arch: ModelArch, shape: number[], finalSide: (side: number) => number): void {
  if (shape.length !== 3) {
    throw new ModelConfigError(
      'ERR_MODEL_NOT_IMAGE_INPUT',
      `${arch} needs an image input [height, width, channels], got [${shape.join(', ')}]; ` +
        `reshape flat samples (e.g. [784] -> [28, 28, 1]) or use the mlp`,
    );
  }
  const [h, w] = shape as [number, number, number];
  if (finalSide(h) < 1 || finalSide(w) < 1) {
    throw new ModelConfigError(
      'ERR_MODEL_BAD_INPUT_SHAPE',
      `${arch}: image ${h}x${w} is too small; its convolutions and poolings leave no pixels`,
    );
  }
}

function dropBatch(shape: readonly (number | null)[]): number[] {
  return shape.slice(1).map((d) => d ?? -1);
}
