/**
 * Deterministic public-batch choice: version v's batch is a seeded sample without
 * replacement, so a restarted coordinator (or an auditor) re-derives the same batch and
 * consecutive versions cycle through the whole public set before repeating a sample. The
 * rule itself is the protocol's (@mutua/proto's batch-rule.ts, PROTOCOL.md "Derived
 * indices"): participants that know it rebuild the lists instead of receiving them.
 */
import { publicBatch } from '@mutua/proto';

export function sampleBatch(
  publicSetSize: number,
  batchSize: number,
  version: number,
  seed: number,
): Uint32Array {
  return publicBatch({ sampleCount: publicSetSize, batchSize, seed }, version);
}
