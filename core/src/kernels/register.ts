/**
 * Registers Mutua's kernels on the tfjs wasm backend. Browser-safe: nothing here
 * touches Node modules, so the browser participant trains with the same kernels.
 *
 * Two groups:
 * - gradients wasm lacks (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
 *   DepthwiseConv2dNativeBackpropInput): without them conv nets cannot train on wasm;
 * - faster replacements for stock kernels that dominated a training step's profile
 *   (see core/bench/profile-step.ts). Each is checked against the cpu backend in
 *   tests and only applies where it was measured to be faster; elsewhere it calls the
 *   stock kernel it replaced.
 *
 * Idempotent. Call before or after the wasm backend initialises: overrides forward the
 * stock kernels' setupFunc, which the engine runs on every setBackend().
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchMatMulConfig } from './batch-mat-mul.ts';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.ts';
import { depthwiseConv2dBackpropFilterConfig } from './depthwise-conv2d-backprop-filter.ts';
import { depthwiseConv2dBackpropInputConfig } from './depthwise-conv2d-backprop-input.ts';
import { identityConfig } from './identity.ts';
import { maxPoolGradConfig } from './max-pool-grad.ts';
import { sumConfig } from './sum.ts';
import { rememberStockKernel, stockKernel } from './wasm-ops.ts';

const MISSING: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  depthwiseConv2dBackpropFilterConfig,
  depthwiseConv2dBackpropInputConfig,
];

/** Stock kernels the speed overrides replace (and fall back on). */
export const OVERRIDDEN_KERNELS = [
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  'Sum',
  'Identity',
] as const;
export type OverriddenKernel = (typeof OVERRIDDEN_KERNELS)[number];

export interface WasmKernelOptions {
  /**
   * Also replace slow stock kernels with the faster compositions (default true).
   * `false` restores the stock ones: benchmarks compare both in one process.
   */
  fast?: boolean;
}

const installed = new Map<string, tf.KernelConfig>();

/** Names of the kernels this module currently has registered on 'wasm'. */
export function registeredWasmKernels(): string[] {
  return [...installed.keys()];
}

function install(config: tf.KernelConfig): void {
  if (installed.get(config.kernelName) === config) return;
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
  installed.set(config.kernelName, config);
}

/** A gradient wasm lacks today; should a later tfjs ship its own, that one is kept. */
function installMissing(config: tf.KernelConfig): void {
  if (!installed.has(config.kernelName) && tf.getKernel(config.kernelName, 'wasm')) return;
  install(config);
}

function restoreStock(kernelName: string): void {
  if (!installed.has(kernelName)) return;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel(stockKernel(kernelName));
  installed.delete(kernelName);
}

let overrideConfigs: Map<OverriddenKernel, tf.KernelConfig> | undefined;

function overrides(): Map<OverriddenKernel, tf.KernelConfig> {
  if (overrideConfigs) return overrideConfigs;
  for (const name of OVERRIDDEN_KERNELS) rememberStockKernel(name);
  overrideConfigs = new Map<OverriddenKernel, tf.KernelConfig>([
    // Faster for every NHWC shape measured, strided too (2.4-9x); the stock kernel
    // keeps NCHW, which the composition does not implement.
    [
      'Conv2DBackpropInput',
      conv2dBackpropInputConfig(stockKernel('Conv2DBackpropInput'), (attrs) => attrs.dataFormat !== 'NCHW'),
    ],
    // Keeps the stock setupFunc so the stock kernel stays callable once restored.
    ['MaxPoolGrad', { ...stockKernel('MaxPoolGrad'), kernelFunc: maxPoolGradConfig.kernelFunc }],
    ['BatchMatMul', batchMatMulConfig(stockKernel('BatchMatMul'))],
    ['Sum', sumConfig(stockKernel('Sum'))],
    ['Identity', identityConfig(stockKernel('Identity'))],
  ]);
  return overrideConfigs;
}

/**
 * Registers the gradients wasm lacks and (unless `fast: false`) the faster kernels on
 * 'wasm'. selectBackend() calls it; a browser participant calls it before
 * tf.setBackend('wasm'). fusedAdam() registers its own kernel on first use.
 */
export function registerWasmGradientKernels(options: WasmKernelOptions = {}): void {
  for (const config of MISSING) installMissing(config);
  if (options.fast ?? true) {
    for (const config of overrides().values()) install(config);
  } else {
    for (const name of OVERRIDDEN_KERNELS) restoreStock(name);
  }
}
