/**
 * One federation's side of the cluster on this replica: the ClusterPort its runtime talks
 * to (cluster-port.ts), and the subjects it listens on.
 *
 *   <cluster>.up.<id>             uploads stored by any replica, for the owner
 *   <cluster>.state.<id>          the owner's decisions (versions opened, consensus published), for all
 *   <cluster>.presence.<id>       participants joining/leaving other replicas, for the owner
 *   <cluster>.presence-sync.<id>  a new owner asks every replica for its participants
 *   <cluster>.roster.<id>         request to the owner: which participants are online, their trust
 */
import type { Subscription } from '@nats-io/transport-node';
import type { StoredSubmission } from '../db/store.ts';
import type { ClusterPort, RosterAnswer, StateAnnouncement } from '../engine/cluster-port.ts';
import type { FederationRuntime } from '../engine/federation-runtime.ts';
import { decodeState, decodeUploads, encodeState, encodeUploads } from './bus-codec.ts';
import type { NatsBus } from './nats-bus.ts';

interface Presence {
  r: string;
  p?: string;
  on?: boolean;
  /** A whole replica's list (answer to a presence-sync). */
  ids?: string[];
}

const text = (data: Uint8Array) => new TextDecoder().decode(data);

/** Upload announcements are flushed at this many bytes even within one group commit. */
const MAX_UPLOAD_BATCH_BYTES = 512 * 1024;

export class FederationLink implements ClusterPort {
  /** Uploads stored on this (non-owning) replica, not yet announced to the owner. */
  private pendingUploads: { stored: StoredSubmission; signature?: string }[] = [];
  private pendingBytes = 0;
  private runtime: FederationRuntime | null = null;
  private readonly subs: Subscription[] = [];
  private ownerSubs: Subscription[] = [];

  constructor(
    private readonly bus: NatsBus,
    private readonly prefix: string,
    private readonly federationId: string,
    private readonly self: string,
    private readonly isOwner: () => boolean,
    private readonly reportedOnline: () => number | undefined,
  ) {}

  private subject(kind: string): string {
    return `${this.prefix}.${kind}.${this.federationId}`;
  }

  // ---------------------------------------------------------------- ClusterPort

  owning(): boolean {
    return this.isOwner();
  }

  uploaded(stored: StoredSubmission, signature?: string): void {
    // The owner recorded it itself; a new owner reads whatever it missed from the database.
    if (this.isOwner()) return;
    // The uploads of one group commit are recorded in one turn of the event loop: they go
    // to the owner as one message (bounded, under NATS's default 1 MB payload limit).
    this.pendingUploads.push({ stored, signature });
    this.pendingBytes += stored.payload.byteLength + 256;
    if (this.pendingBytes >= MAX_UPLOAD_BATCH_BYTES) this.flushUploads();
    else if (this.pendingUploads.length === 1) setImmediate(() => this.flushUploads());
  }

  private flushUploads(): void {
    if (this.pendingUploads.length === 0) return;
    const batch = this.pendingUploads;
    this.pendingUploads = [];
    this.pendingBytes = 0;
    this.bus.publish(this.subject('up'), encodeUploads(batch));
  }

  presence(participantId: string, online: boolean): void {
    if (!this.isOwner())
      this.bus.publish(
        this.subject('presence'),
        JSON.stringify({ r: this.self, p: participantId, on: online }),
      );
  }

  announce(a: StateAnnouncement): void {
    this.bus.publish(this.subject('state'), encodeState(a));
  }

  ownerOnline(): number | undefined {
    return this.reportedOnline();
  }

  async ownerRoster(ids: readonly string[]): Promise<RosterAnswer | null> {
    try {
      const data = await this.bus.request(this.subject('roster'), JSON.stringify({ ids }), 1000);
      const a = JSON.parse(text(data)) as RosterAnswer;
      return Array.isArray(a.online) && a.online.length === ids.length ? a : null;
    } catch {
      return null; // no owner right now (failover) or it did not answer in time
    }
  }

  /** Owner: participants online across the cluster, for this replica's heartbeat. */
  onlineEverywhere(): number | undefined {
    return this.runtime?.onlineCount;
  }

  // ---------------------------------------------------------------- wiring

  /** Called before the runtime loads from the database, so nothing announced meanwhile is missed. */
  attach(rt: FederationRuntime): void {
    this.runtime = rt;
    this.subs.push(
      this.bus.subscribe(this.subject('state'), (data) => rt.replica.announced(decodeState(data))),
      this.bus.subscribe(this.subject('presence-sync'), (data) => {
        const ask = JSON.parse(text(data)) as Presence;
        if (ask.r === this.self) return;
        const answer: Presence = { r: this.self, ids: rt.replica.local() };
        this.bus.publish(this.subject('presence'), JSON.stringify(answer));
      }),
    );
  }

  /** This replica took the lease: listen for uploads and presence, then rebuild from the database. */
  async becomeOwner(): Promise<void> {
    const rt = this.runtime;
    if (!rt) throw new Error(`federation ${this.federationId} is not loaded`);
    this.ownerSubs = [
      this.bus.subscribe(this.subject('up'), (data) => {
        for (const { stored, signature } of decodeUploads(data)) rt.replica.upload(stored, signature);
      }),
      this.bus.serve(this.subject('roster'), (data) => {
        const ask = JSON.parse(text(data)) as { ids?: unknown };
        const ids = Array.isArray(ask.ids) ? ask.ids.filter((x): x is string => typeof x === 'string') : [];
        return JSON.stringify(rt.decidersRoster(ids));
      }),
      this.bus.subscribe(this.subject('presence'), (data) => {
        const m = JSON.parse(text(data)) as Presence;
        if (m.r === this.self) return;
        rt.replica.presence((view) => {
          if (m.ids) return view.replaceReplica(m.r, m.ids);
          return m.p && view.setRemote(m.p, m.r, m.on === true) ? [m.p] : [];
        });
      }),
    ];
    rt.replica.presence((view) => {
      view.clearRemote();
      return [];
    });
    this.bus.publish(this.subject('presence-sync'), JSON.stringify({ r: this.self }));
    await rt.replica.takeOwnership();
  }

  async stepDown(): Promise<void> {
    for (const s of this.ownerSubs) s.unsubscribe();
    this.ownerSubs = [];
    await this.runtime?.replica.releaseOwnership();
  }

  /**
   * The bus reconnected: uploads, presence and decisions announced meanwhile may be lost.
   * The owner asks every replica for its participants again and records the uploads of its
   * open versions that the database holds and it lacks; a follower reloads the owner's
   * decisions from the database and re-sends its whole participant list.
   */
  async resync(): Promise<void> {
    const rt = this.runtime;
    if (!rt) return;
    if (this.isOwner()) {
      // Each answer replaces that replica's list; the view is not cleared first, so the
      // publish rules never see the others' participants vanish meanwhile.
      this.bus.publish(this.subject('presence-sync'), JSON.stringify({ r: this.self }));
      await rt.replica.reconcile();
      return;
    }
    const list: Presence = { r: this.self, ids: rt.replica.local() };
    this.bus.publish(this.subject('presence'), JSON.stringify(list));
    await rt.replica.resync();
  }

  /** The lease was confirmed again after a stall: re-check what waited on the owner meanwhile. */
  revalidated(): void {
    this.runtime?.replica.reevaluate();
  }

  /** A replica is gone: its participants are offline (until they reconnect somewhere). */
  replicaGone(replica: string): void {
    if (!this.isOwner() || !this.runtime) return;
    this.runtime.replica.presence((view) => {
      view.dropReplica(replica);
      return [];
    });
  }

  close(): void {
    // Uploads stored here and not yet announced go now (the owner would otherwise count them
    // only at its next reconcile).
    this.flushUploads();
    for (const s of [...this.subs, ...this.ownerSubs]) s.unsubscribe();
  }
}
