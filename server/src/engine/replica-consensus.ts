/**
 * A consensus to and from its bus form (cluster-port.ts ConsensusWire). The owner sends the
 * aggregate per batch and who contributed; a replica rebuilds a Consensus its strategy can
 * derive targets from, with the uploads it holds itself (its own participants') and, for
 * the ones it lacks, the stored uploads (a participant that moved here from a dead replica;
 * or every contributor under median / trimmed-mean / era / entropy, whose leave-one-out
 * needs them all; 'mean' and 'agreement' need only the participant's own).
 */

import type { RuntimeStore, StoredSubmission } from '../db/store.ts';
import type { ConsensusWire, ContributorRef } from './cluster-port.ts';
import type { Consensus, Contribution } from './strategy.ts';

export function consensusToWire(c: Consensus, signature: string): ConsensusWire {
  if (c.kind === 'fedavg') return { kind: 'fedavg', version: c.version, params: c.params, signature };
  return {
    kind: 'mutual',
    version: c.version,
    batches: c.batches.map((b) => ({
      version: b.version,
      all: b.all,
      contributors: b.contributions.map((x) => ({
        participantId: x.participantId,
        version: x.version,
        staleness: x.staleness,
        weight: x.weight,
      })),
    })),
  };
}

export interface WireContext {
  /** The batch indices of `version` (held, or drawn again: batches are seeded by version). */
  indices(version: number): Uint32Array;
  /** The upload this replica holds for (participant, version), if any. */
  held(participantId: string, version: number): Contribution | undefined;
}

export function consensusFromWire(w: ConsensusWire, ctx: WireContext): Consensus {
  if (w.kind === 'fedavg') return { kind: 'fedavg', version: w.version, params: w.params };
  return {
    kind: 'mutual',
    version: w.version,
    batches: w.batches.map((b) => ({
      version: b.version,
      indices: ctx.indices(b.version),
      all: b.all,
      contributions: b.contributors.map((c: ContributorRef) => ({
        ...c,
        probs: ctx.held(c.participantId, c.version)?.probs,
      })),
    })),
  };
}

/**
 * Loads the stored uploads that `c` lacks for the participants `wanted` selects and puts
 * them in place; a contribution still without its upload (none stored: cannot happen, an
 * upload is stored before it is announced) is dropped, so targets degrade to the aggregate.
 */
export async function fillUploads(
  c: Consensus,
  wanted: (participantId: string) => boolean,
  load: {
    store: RuntimeStore;
    federationId: string;
    decode: (s: StoredSubmission) => { probs?: Float32Array };
  },
): Promise<Consensus> {
  if (c.kind !== 'mutual') return c;
  let from = Number.POSITIVE_INFINITY;
  for (const b of c.batches)
    for (const x of b.contributions)
      if (!x.probs && wanted(x.participantId)) from = Math.min(from, x.version);
  if (from === Number.POSITIVE_INFINITY) return c;
  const state = await load.store.loadState(load.federationId, from);
  const byKey = new Map(state.submissions.map((s) => [`${s.version}:${s.participantId}`, s]));
  return {
    ...c,
    batches: c.batches.map((b) => ({
      ...b,
      contributions: b.contributions.flatMap((x) => {
        if (x.probs || !wanted(x.participantId)) return [x];
        const s = byKey.get(`${x.version}:${x.participantId}`);
        const probs = s ? load.decode(s).probs : undefined;
        return probs ? [{ ...x, probs }] : [];
      }),
    })),
  };
}
