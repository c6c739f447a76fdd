/**
 * The one error the wasm gradient kernels throw: an argument combination they do not
 * implement. It carries a stable code so callers can tell "unsupported here" from a bug.
 */
export type KernelErrorCode = 'ERR_KERNEL_UNSUPPORTED' | 'ERR_KERNEL_NO_WASM';

export class KernelError extends Error {
  override readonly name = 'KernelError';
  constructor(
    readonly code: KernelErrorCode,
    message: string,
  ) {
    super(message);
  }
}
