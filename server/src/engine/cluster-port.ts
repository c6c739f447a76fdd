/**
 * How a federation runtime takes part in a coordinator cluster (server/src/cluster/). With
 * no port the runtime is the whole coordinator, as in the single-process default. With one,
 * it is a replica: it always admits its own participants, stores their uploads and sends
 * them their Tasks; only while `owning()` does it also decide (open versions, close rounds,
 * publish consensus versions), and what it decides is announced to every replica after it
 * is stored.
 */
import type { StoredSubmission } from '../db/store.ts';
import type { FlagReason } from './trust-ledger.ts';

/** A contribution as the bus names it: who, to which version, with which weight (no payload). */
export interface ContributorRef {
  participantId: string;
  version: number;
  staleness: number;
  weight: number;
}

/**
 * A published consensus as it crosses the bus. Mutual: per batch the aggregate over every
 * contribution and who contributed with which weight; each replica derives its own
 * participants' leave-one-out targets from it (with 'mean', from the aggregate and the
 * participant's own upload, so the owner never sends N targets). Fedavg: the global weights.
 */
export type ConsensusWire =
  | {
      kind: 'mutual';
      version: number;
      batches: { version: number; all: Float32Array; contributors: ContributorRef[] }[];
    }
  | { kind: 'fedavg'; version: number; params: Float32Array; signature: string };

/** What the owner announces to every replica, each time after it is durable. */
export type StateAnnouncement =
  | { type: 'opened'; version: number; openedAt: number; consensusVersion: number }
  | {
      type: 'published';
      version: number;
      reason: string;
      submissions: number;
      consensus: ConsensusWire | null;
      /** The version opened right after (none while paused). */
      opened: { version: number; openedAt: number } | null;
    };

export interface ClusterPort {
  /** This replica holds the federation's lease now. */
  owning(): boolean;
  /** A local participant's upload is durable (announced to the owner, which may be this replica). */
  uploaded(stored: StoredSubmission, signature?: string): void;
  /** A participant connected to (true) or left (false) this replica. */
  presence(participantId: string, online: boolean): void;
  /** Owner only: a decision, already stored, for every replica. */
  announce(a: StateAnnouncement): void;
  /**
   * Not owning: how many participants the owner last reported online across the cluster
   * (its union of every replica's), or undefined when no report is fresh. The admin API
   * and the join page then show the same count whichever replica answers.
   */
  ownerOnline(): number | undefined;
  /**
   * Not owning: whether each of these participants is online anywhere in the cluster and
   * its trust weight, as the owner holds them (null when the owner does not answer).
   */
  ownerRoster(ids: readonly string[]): Promise<RosterAnswer | null>;
}

/** Per participant asked about, in the order asked. */
export interface RosterAnswer {
  online: boolean[];
  trust: (number | null)[];
  /** Why a participant's trust fell (shown when it is flagged). */
  reason: (FlagReason | null)[];
}
