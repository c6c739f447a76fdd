/**
 * Decodes the coordinator's demo shards ("mutua-shard-v1", layout in
 * server/src/demo-shard.ts) into a core Dataset: pixels back to [0, 1] floats.
 */
import type { Dataset } from '@mutua/core/data';

const MAGIC = 0x3148534d; // "MSH1"

export class DemoShardError extends Error {
  override readonly name = 'DemoShardError';
}

export function decodeDemoShard(bytes: Uint8Array, labelNames?: readonly string[]): Dataset {
  const fail = (why: string): never => {
    throw new DemoShardError(`the demo shard is malformed: ${why}`);
  };
  if (bytes.byteLength < 12) fail(`${bytes.byteLength} bytes is shorter than the header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail('wrong magic (not mutua-shard-v1)');
  const n = view.getUint32(4, true);
  const numClasses = view.getUint16(8, true);
  const rank = view.getUint8(10);
  if (rank < 1 || rank > 4) fail(`rank ${rank}`);
  const header = 12 + 4 * rank;
  if (bytes.byteLength < header) fail('truncated shape');
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(12 + 4 * i, true));
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== header + n + n * size) {
    fail(`${bytes.byteLength} bytes, expected ${header + n + n * size} for ${n} samples of [${shape}]`);
  }
  const y = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const label = bytes[header + k]!;
    if (label >= numClasses) fail(`label ${label} with ${numClasses} classes`);
    y[k] = label;
  }
  const x = new Float32Array(n * size);
  const pixels = bytes.subarray(header + n);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i]! / 255;
  return { x, y, n, shape, numClasses, labelNames: labelNames?.length ? [...labelNames] : undefined };
}
