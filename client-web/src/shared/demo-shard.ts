/**
 * Turns the coordinator's demo shards (format "mutua-shard-v1", codec in @mutua/proto) into
 * a core Dataset: pixels back to [0, 1] floats. Malformed bytes throw DemoShardError.
 */
import type { Dataset } from '@mutua/core/data';
import { decodeDemoShard as decodeShardBytes } from '@mutua/proto';

export { DemoShardError } from '@mutua/proto';

export function decodeDemoShard(bytes: Uint8Array, labelNames?: readonly string[]): Dataset {
  const shard = decodeShardBytes(bytes);
  const y = Int32Array.from(shard.labels);
  const x = new Float32Array(shard.pixels.length);
  for (let i = 0; i < x.length; i++) x[i] = shard.pixels[i]! / 255;
  return {
    x,
    y,
    n: shard.n,
    shape: shard.shape,
    numClasses: shard.numClasses,
    labelNames: labelNames?.length ? [...labelNames] : undefined,
  };
}
