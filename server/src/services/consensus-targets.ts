/**
 * The consensus targets of a mutual-distillation federation, for the operator's global
 * student (`mutua federation distill`): the newest stored consensus versions, each row the
 * aggregate over ALL participants (not the leave-one-out a participant is sent), merged so
 * that a public row appears once, with its newest target. Read from the database only:
 * the coordinator's runtimes and event loop do no training or aggregation for it.
 */
import type { ConsensusTargetsView } from '@mutua/proto/rest';
import { type ConsensusTargets, decodeIndexedConsensus, INDEXED_CONSENSUS } from '../db/consensus-layout.ts';
import type { ConsensusRow, Db, FederationRow } from '../db/index.ts';
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
      'MUTUA_ERR_NOT_MUTUAL',
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
    const t =
      c.encoding === INDEXED_CONSENSUS && c.classes === C
        ? decodeIndexedConsensus(c.payload, C)
        : await legacyTargets(db, federationId, c, C);
    if (!t) {
      skipped++;
      continue;
    }
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
        : `federation ${federationId} has no consensus whose rows can be told among its newest ${versions} versions: run more rounds`,
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

/**
 * A consensus stored before the indexed form ('float32': the rows alone, batch after batch,
 * newest source version first). Its rows are the source rounds' batches in that order when
 * every batch was aggregated whole, which the payload's length confirms; otherwise (a batch
 * without contributions, active rows split apart) its rows cannot be told: null.
 */
async function legacyTargets(
  db: Db,
  federationId: string,
  c: ConsensusRow,
  C: number,
): Promise<ConsensusTargets | null> {
  if (c.encoding !== 'float32' || c.sourceVersions.length === 0) return null;
  const sources = [...c.sourceVersions].sort((a, b) => b - a);
  const from = sources.at(-1)!;
  const rounds = await db.rounds.list(federationId, { fromNumber: from, limit: sources[0]! - from + 1 });
  const byNumber = new Map(rounds.map((r) => [r.number, r.batchIndices]));
  const parts = sources.map((v) => byNumber.get(v));
  if (parts.some((p) => p === undefined)) return null;
  const rows = parts.reduce((n, p) => n + p!.length, 0);
  if (rows === 0 || c.payload.byteLength !== rows * C * 4) return null;
  const indices = new Uint32Array(rows);
  let at = 0;
  for (const p of parts) {
    indices.set(p!, at);
    at += p!.length;
  }
  const view = new DataView(c.payload.buffer, c.payload.byteOffset, c.payload.byteLength);
  const probs = Float32Array.from({ length: rows * C }, (_, k) => view.getFloat32(4 * k, true));
  return { indices, probs, classes: C };
}
