/**
 * Which model a browser trains, when the person leaves it to us ("auto"): the largest
 * that keeps a round short on this device. Measured on a 2-core machine (core/bench):
 * cnn-small trains a few hundred samples/s on WebAssembly, cnn-fedavg ~50, mlp over a
 * thousand; the CPU backend is 10-50x slower than WebAssembly, so it gets the mlp.
 */
import { isModelArch, type ModelArch } from '@mutua/core/models';
import type { ArchChoice } from './messages.ts';

export interface PickInput {
  inputShape: readonly number[];
  /** fedavg: the architecture the federation requires ('' = free). */
  requiredArch: string;
  choice: ArchChoice;
  backend: string;
  cores: number;
  memoryGb: number | null;
}

export class ModelChoiceError extends Error {
  override readonly name = 'ModelChoiceError';
}

/** Whether `arch` can take samples of this shape (models.ts: CNNs need images, cnn-small at least 10×10, cnn-tiny 8×8). */
export function archFits(arch: ModelArch, inputShape: readonly number[]): boolean {
  if (arch === 'mlp' || arch === 'mlp-tiny') return true;
  if (inputShape.length !== 3) return false;
  const [h, w] = inputShape as [number, number, number];
  if (arch === 'cnn-small') return h >= 10 && w >= 10;
  return arch === 'cnn-tiny' ? h >= 8 && w >= 8 : h >= 4 && w >= 4;
}

export function pickModel(input: PickInput): { arch: ModelArch; reason: string } {
  if (input.requiredArch) {
    if (!isModelArch(input.requiredArch)) {
      throw new ModelChoiceError(
        `this federation requires the model "${input.requiredArch}", which the browser client does not have`,
      );
    }
    return { arch: input.requiredArch, reason: 'the federation (FedAvg) requires it' };
  }
  if (input.choice !== 'auto') {
    if (!archFits(input.choice, input.inputShape)) {
      throw new ModelChoiceError(
        `${input.choice} cannot take samples of shape [${input.inputShape.join(', ')}]: choose mlp`,
      );
    }
    return { arch: input.choice, reason: 'your choice' };
  }
  if (!archFits('cnn-small', input.inputShape)) return { arch: 'mlp', reason: 'the samples are not images' };
  if (input.backend === 'cpu') return { arch: 'mlp', reason: 'the CPU backend is too slow for a CNN' };
  if (input.backend === 'webgl' && (input.memoryGb ?? 4) >= 4 && archFits('cnn-fedavg', input.inputShape)) {
    return { arch: 'cnn-fedavg', reason: 'a hardware GPU trains the larger CNN quickly' };
  }
  if (input.cores < 2) return { arch: 'mlp', reason: 'a single CPU core' };
  return { arch: 'cnn-small', reason: `${input.cores} cores with WebAssembly` };
}
