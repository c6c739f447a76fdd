/**
 * The coordinator's public set for a simulation: exactly the samples the split holds out as
 * public, from the same federatedSplit call every participant makes for its shard
 * (client-node's loadBuiltinSplit), encoded as mutua-public-v1 for
 * PUT /v1/public-sets?format=mutua-public-v1. Labels stay here: the public set is unlabeled.
 */
import { createHash } from 'node:crypto';
import type { Dataset } from '@mutua/core/data';
import { encodePublicSet } from '@mutua/proto';
import { loadBuiltinSplit } from '../../client-node/src/data-source.ts';
import type { SimulateOptions } from './options.ts';
import { sourceLimit } from './plan.ts';

/** mutua-public-v1 bytes of `ds.x`: uint8 when every value is a whole k/255 (image pixels), else float32. */
export function encodeSamples(ds: Dataset): Uint8Array {
  const x = ds.x;
  let pixels = true;
  for (let i = 0; i < x.length && pixels; i++) {
    const v = x[i]! * 255;
    if (v < 0 || v > 255 || Math.abs(v - Math.round(v)) > 1e-3) pixels = false;
  }
  return pixels
    ? encodePublicSet({
        x: Uint8Array.from(x, (v) => Math.round(v * 255)),
        sampleCount: ds.n,
        shape: [...ds.shape],
        dtype: 'uint8',
      })
    : encodePublicSet({ x, sampleCount: ds.n, shape: [...ds.shape], dtype: 'float32' });
}

export interface SplitSummary {
  /** mutua-public-v1 file of the public samples. */
  publicSet: Uint8Array;
  publicSha256: string;
  publicCount: number;
  testCount: number;
  /** Private samples per participant. */
  clientSizes: number[];
  /** Per participant, how many samples of each class it holds. */
  clientLabels: number[][];
}

export async function buildSplit(o: SimulateOptions): Promise<SplitSummary> {
  const split = await loadBuiltinSplit(
    o.dataset,
    { count: o.clients, alpha: o.alpha, seed: o.seed, publicSize: o.publicSize, testSize: o.testSize },
    { limit: sourceLimit(o) },
  );
  const publicSet = encodeSamples(split.public);
  return {
    publicSet,
    publicSha256: createHash('sha256').update(publicSet).digest('hex'),
    publicCount: split.public.n,
    testCount: split.test.n,
    clientSizes: split.clients.map((c) => c.n),
    clientLabels: split.clients.map((c) => {
      const counts = new Array<number>(c.numClasses).fill(0);
      for (const label of c.y) counts[label]!++;
      return counts;
    }),
  };
}
