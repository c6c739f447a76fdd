/**
 * Reads back what a federation runtime needs after a restart: the versions that can
 * still receive work or feed the newest consensus, their accepted contributions, and how
 * many of those arrived after that consensus was published.
 */

import type { RuntimeStore, StoredSubmission } from '../db/store.ts';
import type { RoundPolicy } from './round-policy.ts';
import type { VersionState } from './runtime-types.ts';
import type { Contribution } from './strategy.ts';

export interface RecoveredVersions {
  current: number;
  /** Status of the current round as stored ('open' if it was never closed). */
  currentStoredOpen: boolean;
  versions: Map<number, VersionState>;
  latestConsensus: { version: number; sourceVersions: number[] } | null;
  /** Contributions accepted after the newest consensus (they feed the next one). */
  newSincePublish: number;
}

export async function loadVersions(
  store: RuntimeStore,
  federationId: string,
  policy: RoundPolicy,
  decode: (s: StoredSubmission) => { probs?: Float32Array; params?: Float32Array },
): Promise<RecoveredVersions> {
  // The probe only needs the current version: asking from the largest round number
  // loads no submissions beyond the consensus' sources (not the whole history).
  const probe = await store.loadState(federationId, 2 ** 31 - 1);
  const from = Math.max(1, probe.currentVersion - policy.keepVersions);
  const state = await store.loadState(federationId, from);
  const versions = new Map<number, VersionState>();
  for (const r of state.rounds) {
    const needed = r.version >= from || state.latestConsensus?.sourceVersions.includes(r.version);
    if (!needed) continue;
    versions.set(r.version, {
      version: r.version,
      indices: r.indices,
      openedAt: r.openedAt.getTime(),
      // Async versions within maxStaleness accept work whatever their stored status.
      open: r.status === 'open' || (!policy.closesOnPublish && r.version >= from),
      dirty: false,
      contributions: new Map(),
    });
  }
  for (const s of state.submissions) {
    versions.get(s.version)?.contributions.set(s.participantId, { ...decode(s), ...contributionMeta(s) });
  }
  // Every consensus marks the contributions it aggregated as it is saved (consensusVersion;
  // rows from before that column were marked by the rule recovery used until then). An
  // unmarked one is new since the last publish: a late (async) contribution to an older
  // version acknowledged just before a crash, or one a cluster follower accepted while its
  // view was older than the owner's last publish (its staleness alone would place it inside
  // that consensus) — it counts towards the buffer and re-enters the next consensus.
  let newSincePublish = 0;
  for (const s of state.submissions) {
    const v = versions.get(s.version);
    if (!v || s.consensusVersion != null) continue;
    v.dirty = true;
    newSincePublish++;
  }
  const currentRound = state.rounds.find((r) => r.version === state.currentVersion);
  return {
    current: state.currentVersion,
    currentStoredOpen: currentRound?.status === 'open',
    versions,
    latestConsensus: state.latestConsensus,
    newSincePublish,
  };
}

export function contributionMeta(s: StoredSubmission): Contribution {
  return {
    participantId: s.participantId,
    version: s.version,
    staleness: s.staleness,
    weight: s.weight,
    numSamples: s.numSamples,
  };
}
