/**
 * The demo-shard file, format "mutua-shard-v1": a small labeled slice of a built-in data set
 * that the coordinator hands to someone who opens a join link without data of their own
 * (GET /v1/join/{token}/demo-shard), so they can try the federation from a browser tab.
 * The coordinator writes it (server/src/demo-shard.ts), the browser reads it
 * (client-web/src/shared/demo-shard.ts); this file is the one definition both use.
 *
 * Layout (all integers little-endian), ~1 byte per pixel:
 *
 *   offset  size        field
 *   0       4           magic "MSH1" = 4d 53 48 31
 *   4       4           n, uint32: samples
 *   8       2           numClasses, uint16 (1..256: labels are bytes)
 *   10      1           rank, uint8 (1..4)
 *   11      1           reserved, 0
 *   12      4 x rank    sample shape, uint32 each (>= 1)
 *   ..      n           labels, uint8 each, < numClasses
 *   ..      n x prod    pixels, uint8, value = byte / 255, sample-major; nothing follows
 */

export const DEMO_SHARD_FORMAT = 'mutua-shard-v1';
/** "MSH1" read as a little-endian uint32. */
export const DEMO_SHARD_MAGIC = 0x3148534d;
export const DEMO_SHARD_MAX_RANK = 4;
export const DEMO_SHARD_MAX_CLASSES = 256;
const PREFIX = 12;

export type DemoShardErrorCode =
  /** Shorter than the prefix, or the magic bytes differ. */
  | 'DEMO_SHARD_MAGIC'
  /** Rank, shape or class count out of range. */
  | 'DEMO_SHARD_HEADER'
  /** The length disagrees with the header (truncated or trailing bytes), or inputs disagree. */
  | 'DEMO_SHARD_LENGTH'
  /** A label is not below numClasses. */
  | 'DEMO_SHARD_LABEL';

export class DemoShardError extends Error {
  override readonly name = 'DemoShardError';
  readonly code: DemoShardErrorCode;

  constructor(code: DemoShardErrorCode, why: string) {
    super(`the demo shard is malformed: ${why} (${code})`);
    this.code = code;
  }
}

export interface DemoShardHeader {
  n: number;
  numClasses: number;
  /** Per-sample shape, e.g. [28, 28, 1]. */
  shape: number[];
}

/** A shard's parts; labels and pixels are views into `bytes`, not copies. */
export interface DemoShardParts extends DemoShardHeader {
  bytes: Uint8Array;
  /** n class indices. */
  labels: Uint8Array;
  /** n * prod(shape) pixels, sample after sample. */
  pixels: Uint8Array;
}

function sampleSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkHeader({ n, numClasses, shape }: DemoShardHeader): void {
  const u32 = (v: number) => Number.isSafeInteger(v) && v >= 0 && v < 2 ** 32;
  if (!u32(n)) throw new DemoShardError('DEMO_SHARD_HEADER', `n ${n} is not a uint32`);
  if (!(Number.isSafeInteger(numClasses) && numClasses >= 1 && numClasses <= DEMO_SHARD_MAX_CLASSES)) {
    throw new DemoShardError(
      'DEMO_SHARD_HEADER',
      `numClasses ${numClasses} is not in 1..${DEMO_SHARD_MAX_CLASSES}`,
    );
  }
  if (shape.length < 1 || shape.length > DEMO_SHARD_MAX_RANK) {
    throw new DemoShardError('DEMO_SHARD_HEADER', `rank ${shape.length} is not in 1..${DEMO_SHARD_MAX_RANK}`);
  }
  if (!shape.every((d) => u32(d) && d >= 1)) {
    throw new DemoShardError('DEMO_SHARD_HEADER', `shape [${shape}] needs positive uint32 dimensions`);
  }
}

/**
 * Allocates a shard with its header written; the caller fills `labels` and `pixels` in
 * place (the coordinator copies straight from its source bytes, with no intermediate array).
 * Throws DemoShardError for a header the format cannot hold.
 */
export function allocateDemoShard(header: DemoShardHeader): DemoShardParts {
  checkHeader(header);
  const { n, numClasses } = header;
  const shape = [...header.shape];
  const start = PREFIX + 4 * shape.length;
  const bytes = new Uint8Array(start + n + n * sampleSize(shape));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, DEMO_SHARD_MAGIC, true);
  view.setUint32(4, n, true);
  view.setUint16(8, numClasses, true);
  view.setUint8(10, shape.length);
  shape.forEach((d, i) => {
    view.setUint32(PREFIX + 4 * i, d, true);
  });
  return {
    bytes,
    n,
    numClasses,
    shape,
    labels: bytes.subarray(start, start + n),
    pixels: bytes.subarray(start + n),
  };
}

/** Writes a shard from whole arrays. Throws DemoShardError for inconsistent input. */
export function encodeDemoShard(
  input: DemoShardHeader & { labels: ArrayLike<number>; pixels: Uint8Array },
): Uint8Array {
  const shard = allocateDemoShard(input);
  if (input.labels.length !== shard.n || input.pixels.length !== shard.pixels.length) {
    throw new DemoShardError(
      'DEMO_SHARD_LENGTH',
      `${input.labels.length} labels and ${input.pixels.length} pixels, expected ${shard.n} and ${shard.pixels.length}`,
    );
  }
  for (let k = 0; k < shard.n; k++) {
    const label = input.labels[k]!;
    if (!(Number.isInteger(label) && label >= 0 && label < shard.numClasses)) {
      throw new DemoShardError('DEMO_SHARD_LABEL', `label ${label} with ${shard.numClasses} classes`);
    }
    shard.labels[k] = label;
  }
  shard.pixels.set(input.pixels);
  return shard.bytes;
}

/** Reads and checks a shard; labels and pixels are views into `bytes`. Throws DemoShardError. */
export function decodeDemoShard(bytes: Uint8Array): DemoShardParts {
  if (bytes.byteLength < PREFIX) {
    throw new DemoShardError('DEMO_SHARD_MAGIC', `${bytes.byteLength} bytes is shorter than the header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== DEMO_SHARD_MAGIC) {
    throw new DemoShardError('DEMO_SHARD_MAGIC', `wrong magic (not ${DEMO_SHARD_FORMAT})`);
  }
  const n = view.getUint32(4, true);
  const numClasses = view.getUint16(8, true);
  const rank = view.getUint8(10);
  if (rank < 1 || rank > DEMO_SHARD_MAX_RANK) throw new DemoShardError('DEMO_SHARD_HEADER', `rank ${rank}`);
  const start = PREFIX + 4 * rank;
  if (bytes.byteLength < start) throw new DemoShardError('DEMO_SHARD_LENGTH', 'truncated shape');
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(PREFIX + 4 * i, true));
  checkHeader({ n, numClasses, shape });
  const expected = start + n + n * sampleSize(shape);
  if (bytes.byteLength !== expected) {
    throw new DemoShardError(
      'DEMO_SHARD_LENGTH',
      `${bytes.byteLength} bytes, expected ${expected} for ${n} samples of [${shape}]`,
    );
  }
  const labels = bytes.subarray(start, start + n);
  for (let k = 0; k < n; k++) {
    if (labels[k]! >= numClasses) {
      throw new DemoShardError('DEMO_SHARD_LABEL', `label ${labels[k]} with ${numClasses} classes`);
    }
  }
  return { bytes, n, numClasses, shape, labels, pixels: bytes.subarray(start + n) };
}
