/**
 * Model architecture names and the error createModel() throws, without tfjs: re-exported
 * by models.ts; imported on its own where loading tfjs would cost for nothing (the
 * client's option parsing and `--help`).
 */
export const MODEL_ARCHS = ['mlp', 'cnn-small', 'cnn-fedavg', 'mlp-tiny', 'cnn-tiny'] as const;
export type ModelArch = (typeof MODEL_ARCHS)[number];

export type ModelErrorCode =
  | 'ERR_MODEL_UNKNOWN_ARCH'
  | 'ERR_MODEL_BAD_INPUT_SHAPE'
  | 'ERR_MODEL_BAD_NUM_CLASSES'
  | 'ERR_MODEL_NOT_IMAGE_INPUT'
  | 'ERR_MODEL_BAD_SEED';

/** A rejected createModel() argument; `code` is stable, the message says what to change. */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
  constructor(
    readonly code: ModelErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isModelArch(value: unknown): value is ModelArch {
  return typeof value === 'string' && (MODEL_ARCHS as readonly string[]).includes(value);
}
