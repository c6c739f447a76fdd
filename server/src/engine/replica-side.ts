/**
 * What the other replicas of a cluster tell a federation runtime (cluster-port.ts), as
 * the cluster layer (server/src/cluster/federation-link.ts) delivers it: uploads stored
 * elsewhere (to the owner), who is online elsewhere (to the owner), and the owner's
 * decisions (to the others, through ReplicaMirror). Also the two ownership transitions.
 */

import type { StoredSubmission } from '../db/store.ts';
import type { StateAnnouncement } from './cluster-port.ts';
import type { OnlineView } from './online-view.ts';
import { type MirrorHost, ReplicaMirror } from './replica-mirror.ts';
import type { RoundPolicy } from './round-policy.ts';
import { contributionMeta } from './runtime-recovery.ts';
import type { Consensus } from './strategy.ts';

export interface ReplicaHost extends Omit<MirrorHost, 'setConsensus' | 'closesOnPublish'> {
  readonly policy: RoundPolicy;
  readonly online: OnlineView;
  /** Owns the federation now (and is not closed). */
  owner(): boolean;
  enqueue<T>(fn: () => Promise<T> | T): Promise<T>;
  /** Resolves when no local upload is still being written. */
  settled(): Promise<void>;
  setConsensus(c: Consensus, fedavgShape?: { count: number; signature: string }): void;
  /** fedavg: the parameter count and model signature, from the first upload seen. */
  learnShape(shape: { count: number; signature: string }): void;
  /** A participant awaited by a recovery grace is back (on some replica). */
  arrived(participantId: string): void;
  /** Re-evaluates opening the first version and publishing (owner). */
  reevaluate(): Promise<void>;
  stopTimers(): void;
}

export class ReplicaSide {
  private readonly mirror: ReplicaMirror;

  constructor(private readonly host: ReplicaHost) {
    this.mirror = new ReplicaMirror({
      ...host,
      closesOnPublish: host.policy.closesOnPublish,
      setConsensus: (c, signature) =>
        host.setConsensus(
          c,
          c.kind === 'fedavg' && signature !== undefined ? { count: c.params.length, signature } : undefined,
        ),
    });
  }

  /** Owner: an upload stored by a replica (this one included) and announced; duplicates are ignored. */
  upload(stored: StoredSubmission, signature?: string): void {
    const h = this.host;
    void h.enqueue(async () => {
      const v = h.versions.get(stored.version);
      if (!h.owner() || !v || v.contributions.has(stored.participantId)) return;
      // Late for its round (sync): stored and acknowledged, not aggregated.
      if (h.policy.closesOnPublish && !v.open) return;
      const decoded = h.decode(stored);
      h.versions.record(v, { ...contributionMeta(stored), ...decoded });
      if (decoded.params) h.learnShape({ count: decoded.params.length, signature: signature ?? '' });
      await h.reevaluate();
    });
  }

  /**
   * Owner: the bus reconnected, so uploads other replicas announced meanwhile may be lost
   * (core NATS delivers at most once). Every acknowledged upload is in the store: record
   * those of the open versions this owner does not hold yet.
   */
  reconcile(): Promise<void> {
    const h = this.host;
    return h.enqueue(async () => {
      if (!h.owner()) return;
      const open = [...h.versions.all()].filter((v) => v.open).map((v) => v.version);
      if (open.length === 0) return;
      const state = await h.store.loadState(h.federationId, Math.min(...open));
      for (const s of state.submissions)
        if (open.includes(s.version) && !h.versions.get(s.version)?.contributions.has(s.participantId))
          this.upload(s);
    });
  }

  /** Who is online elsewhere changed: `update` edits the view and returns the participants new to it. */
  presence(update: (view: OnlineView) => readonly string[]): void {
    for (const id of update(this.host.online)) this.host.arrived(id);
    this.reevaluate();
  }

  /** Owner: re-checks opening and publishing (the lease was confirmed again after a stall). */
  reevaluate(): void {
    void this.host.enqueue(() => (this.host.owner() ? this.host.reevaluate() : undefined));
  }

  /** The participants connected to this replica. */
  local(): string[] {
    return [...this.host.roster.sessions.keys()];
  }

  /** Follower: the owner's decision (ignored while owning). */
  announced(a: StateAnnouncement): void {
    void this.host.enqueue(() => (this.host.owner() ? undefined : this.mirror.apply(a)));
  }

  /** Follower: announcements may have been lost (the bus reconnected); reload the decisions from the store. */
  resync(): Promise<void> {
    return this.host.enqueue(() => (this.host.owner() ? undefined : this.mirror.reload()));
  }

  /** Follower: adds the stored uploads the consensus lacks for these participants' targets. */
  complete(wanted: (participantId: string) => boolean): Promise<void> {
    return this.mirror.complete(wanted);
  }

  /**
   * This replica now holds the lease: the store has every decision and upload; start from
   * it. Then offer the current task to every participant connected here: the dead owner may
   * have published and opened a version it never announced, and these participants are
   * not joining (that offers) — they wait for a version nobody would send them.
   */
  takeOwnership(): Promise<void> {
    return this.host.enqueue(async () => {
      await this.host.settled();
      await this.host.recover();
      this.host.roster.offerAll();
    });
  }

  /** The lease is gone (lost or handed over): stop the timers; decisions are the new owner's. */
  releaseOwnership(): Promise<void> {
    return this.host.enqueue(async () => {
      await this.host.settled();
      this.host.stopTimers();
    });
  }
}
