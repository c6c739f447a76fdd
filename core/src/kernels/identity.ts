/**
 * Identity for wasm that shares the input's buffer (one more reference) instead of
 * copying it, as the cpu and webgl backends do.
 *
 * The engine clones, through Identity, every tensor a kernel saves for backprop; the
 * stock wasm kernel copies, which cost ~0.5 ms per cnn-small step in copies of
 * activations alone. tfjs tensors are immutable (a variable's assign() swaps buffers,
 * never writes into one) and no Mutua or stock wasm kernel writes into its inputs, so
 * sharing is unobservable. Strings keep the stock kernel.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm, TensorInfo } from './wasm-ops.ts';

export function identityConfig(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { ...stock, kernelName: 'Identity', backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc };
}
