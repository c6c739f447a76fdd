/**
 * The consensus targets of a mutual-distillation federation, for the operator's global
 * student (`mutua federation distill`): the newest stored consensus versions, each row the
 * aggregate over ALL participants (not the leave-one-out a participant is sent), merged so
 * that a public row appears once, with its newest target. Read from the database only:
 * the coordinator's runtimes and event loop do no training or aggregation for it.
 */
import type { ConsensusTargetsView } from '@mutua/proto/rest';
import { decodeIndexedConsensus, INDEXED_CONSENSUS } from '../db/consensus-layout.ts';
import type { Db, FederationRow } from '../db/index.ts';
import { resolveSettings, type SettingsInput } from '../engine/settings.ts';
import { HttpError, notFound } from '../errors.ts';

/** A response holds at most this many target values (rows × classes): 16 MiB of float32 before base64. */
export const MAX_TARGET_VALUES = 4 << 20;

/** The federation, unless it is missing or deleted (404). */
export async function liveFederation(db: Db, id: string): Promise<FederationRow> {
  const f = await db.federations.get(id);
  if (!f || f.status === 'deleted') throw notFound(`federation ${id}`);
  return f;
}

export async function consensusTargets(
  db: Db,
  federationId: string,
  versions: number,
): Promise<ConsensusTargetsView> {
  const f = await liveFederation(db, federationId);
  const settings = resolveSettings(f.settings as SettingsInput);
  if (settings.strategy !== 'mutual')
    throw new HttpError(
      'MUTUA_ERR_WRONG_STRATEGY',
      `federation ${federationId} runs ${settings.strategy}: its global model is the FedAvg average, there are no prediction targets to distill`,
    );
  const C = settings.task.numClasses;
  const stored = await db.consensus.recent(federationId, versions);
  const seen = new Set<number>();
  const indices: number[] = [];
  const chunks: Float32Array[] = [];
  const used: ConsensusTargetsView['versions'] = [];
  let skipped = 0;
  for (const c of stored) {
    if (c.encoding !== INDEXED_CONSENSUS || c.classes !== C) {
      skipped++;
      continue;
    }
    const t = decodeIndexedConsensus(c.payload, C);
    if ((indices.length + t.indices.length) * C > MAX_TARGET_VALUES) break;
    let rows = 0;
    // Batches are stored newest first, and so are versions: the first target seen for a row is its newest.
    for (let r = 0; r < t.indices.length; r++) {
      const index = t.indices[r]!;
      if (seen.has(index)) continue;
      seen.add(index);
      indices.push(index);
      chunks.push(t.probs.subarray(r * C, (r + 1) * C));
      rows++;
    }
    used.push({
      version: c.version,
      rows,
      contributors: c.contributors,
      createdAt: c.createdAt.toISOString(),
    });
  }
  if (indices.length === 0)
    throw new HttpError(
      'MUTUA_ERR_NO_CONSENSUS',
      stored.length === 0
        ? `federation ${federationId} has published no consensus yet: targets exist once a round closes with submissions`
        : `federation ${federationId} has no consensus with row indices among its newest ${versions} versions (${skipped} stored by an older coordinator): run more rounds`,
    );
  const probs = new Float32Array(indices.length * C);
  chunks.forEach((row, r) => {
    probs.set(row, r * C);
  });
  return {
    federationId,
    temperature: settings.temperature,
    classes: C,
    rows: indices.length,
    versions: used,
    skippedVersions: skipped,
    indices,
    targets: Buffer.from(probs.buffer, probs.byteOffset, probs.byteLength).toString('base64'),
  };
}
