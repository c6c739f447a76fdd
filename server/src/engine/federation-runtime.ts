/**
 * One running federation: who is connected, which version is open, the contributions
 * behind the next consensus, and the queue that orders every state change. The rest is
 * delegated: the round policy (sync-round-policy.ts / async-round-policy.ts) decides what
 * is accepted and when a version publishes; the strategy (strategy-registry.ts) does the
 * maths; the store makes accepted contributions durable BEFORE they are acknowledged; the
 * task-view cache builds what is sent; the WebSocket layer encodes it.
 *
 * Sync and async modes share one mechanism, "versions": version v has a public batch
 * B_v; a task at v asks to predict B_v and carries the leave-one-out targets of the
 * newest consensus.
 */

import { activeCount } from './active-rows.ts';
import type { RosterAnswer } from './cluster-port.ts';
import { FederationRuntimeCore } from './federation-runtime-core.ts';
import { ReplicaSide } from './replica-side.ts';
import type { AckView, RuntimeOptions, SessionPort, Submission } from './runtime-types.ts';
import type { Consensus } from './strategy.ts';
import { TrustLedger } from './trust-ledger.ts';

export type {
  AckView,
  RuntimeEvent,
  RuntimeOptions,
  SessionPort,
  Submission,
  TaskView,
} from './runtime-types.ts';
export { RuntimeError } from './runtime-types.ts';

export class FederationRuntime extends FederationRuntimeCore {
  /** What other replicas tell this one (cluster-port.ts); unused single-process. */
  readonly replica: ReplicaSide;
  /** Each participant's trust weight across versions ('agreement'), for the admin API. */
  readonly trust = new TrustLedger();

  protected published(consensus: Consensus): void {
    this.trust.record(consensus);
  }

  constructor(options: RuntimeOptions) {
    super(options);
    this.replica = new ReplicaSide({
      federationId: this.federationId,
      settings: this.settings,
      store: this.store,
      versions: this.versions,
      roster: this.roster,
      policy: this.policy,
      online: this.online,
      decode: (s) => this.options.decodeStored(s),
      owner: () => this.owner && !this.closed,
      enqueue: (fn) => this.enqueue(fn),
      settled: () => this.intake.settled(),
      consensus: () => this.consensus,
      setConsensus: (c, shape) => {
        this.consensus = c;
        if (shape) this.fedavgShape ??= shape;
        this.roster.consensusChanged();
      },
      learnShape: (shape) => {
        this.fedavgShape ??= shape;
      },
      indices: (version) => this.strategy.configureRound(this.ctx(version)).predictIndices,
      prune: () => this.prune(),
      recover: () => this.recover(),
      arrived: (id) => {
        if (this.grace.arrived(id)) this.endRecoveryGrace();
      },
      reevaluate: async () => {
        await this.maybeOpenFirst();
        await this.maybeCloseUnlessPaused();
      },
      stopTimers: () => {
        this.policy.close();
        this.grace.end();
      },
    });
  }

  protected mirrorLoaded(): Promise<void> {
    return this.replica.complete((id) => this.roster.has(id));
  }

  get currentVersion(): number {
    return this.versions.current;
  }
  /** Participants needed before a round or version opens (settings.ts requiredParticipants). */
  get minParticipants(): number {
    return this.gate.required;
  }
  /** Online in the federation: here and, in a cluster, on every replica (as the owner counts them). */
  get onlineCount(): number {
    const c = this.cluster;
    if (c && !c.owning()) return c.ownerOnline() ?? this.roster.size;
    return this.online.size;
  }
  get consensusVersion(): number {
    return this.consensus?.version ?? 0;
  }
  /** Rows a prediction upload for `version` must have (undefined if the version is unknown); `activeRows`: the participant's. */
  batchRows(version: number, activeRows = 0): number | undefined {
    const n = this.versions.get(version)?.indices.length;
    return n === undefined || activeRows === 0 ? n : activeCount(this.settings.activeRows, n);
  }
  /** The public indices a prediction upload for `version` answers, in order (undefined if unknown). */
  batchIndices(version: number, activeRows = 0): Uint32Array | undefined {
    const indices = this.versions.get(version)?.indices;
    const n = this.batchRows(version, activeRows);
    return indices === undefined || n === undefined ? undefined : indices.subarray(0, n);
  }
  /** fedavg: parameter count and model signature, learned from the first accepted upload. */
  get modelShape(): { count: number; signature: string } | null {
    return this.fedavgShape;
  }
  /**
   * Online anywhere (in a cluster: on any replica) and trust weight of these participants,
   * as the replica that decides holds them: this one when it decides, else asked of the
   * owner; when the owner does not answer, online here and no trust.
   */
  async participantsView(ids: readonly string[]): Promise<RosterAnswer> {
    const c = this.cluster;
    if (c && !c.owning()) {
      const answer = await c.ownerRoster(ids);
      if (answer) return answer;
      return {
        online: ids.map((id) => this.roster.has(id)),
        trust: ids.map(() => null),
        reason: ids.map(() => null),
      };
    }
    return this.decidersRoster(ids);
  }
  /** What this replica answers as the decider (participantsView()). */
  decidersRoster(ids: readonly string[]): RosterAnswer {
    return {
      online: ids.map((id) => this.online.has(id)),
      trust: ids.map((id) => this.trust.of(id)),
      reason: ids.map((id) => this.trust.reason(id)),
    };
  }
  /** A participant's newest stored prediction uploads, newest first (ws/delta-payloads.ts rebuilds held rows from them). */
  uploadHistory(participantId: string, limit: number) {
    return this.store.uploadHistory(this.federationId, participantId, limit);
  }
  isOnline(participantId: string): boolean {
    return this.roster.has(participantId);
  }

  /** Rebuilds state after a restart: open versions, their contributions, the newest consensus. */
  join(port: SessionPort): void {
    this.roster.add(port);
    this.online.changed();
    this.cluster?.presence(port.participantId, true);
    // Everyone awaited is back: the "every connected participant" rules apply as usual.
    if (this.grace.arrived(port.participantId)) this.endRecoveryGrace();
    this.enqueue(async () => {
      if (this.versions.current === 0 || !this.versions.head()?.open || this.gate.holding)
        await this.maybeOpenFirst();
      // Someone (re)joining may complete what the restart left open (everyone back).
      await this.maybeCloseUnlessPaused();
      // A participant that moved here from another replica: its own upload behind the
      // consensus is needed for its leave-one-out targets.
      if (!this.owner) await this.replica.complete((id) => id === port.participantId);
      this.roster.offer(port.participantId);
    });
  }

  leave(participantId: string, port?: SessionPort): void {
    if (!this.roster.remove(participantId, port)) return;
    this.online.changed();
    this.cluster?.presence(participantId, false);
    // "All active participants" shrank: the open round may now be complete.
    this.enqueue(() => this.maybeClose());
  }

  /**
   * Re-sends the current task: with the newest targets / global weights for an explicit
   * TaskRequest (the client may have lost them), without them when the participant holds
   * them already (after STALE_ROUND / TOO_STALE): a consensus is never re-sent unchanged.
   */
  requestTask(participantId: string, options: { resendConsensus?: boolean } = {}): void {
    if (!this.roster.reset(participantId, options.resendConsensus !== false)) return;
    this.enqueue(async () => {
      await this.maybeCloseUnlessPaused();
      this.roster.offer(participantId);
    });
  }

  setPaused(paused: boolean): void {
    const resumed = this.paused && !paused;
    this.paused = paused;
    if (paused) return;
    this.enqueue(async () => {
      await this.maybeOpenFirst();
      // Recovery of a paused federation left its complete round open (see recover()).
      if (resumed) await this.maybeCloseUnlessPaused();
    });
  }

  submit(participantId: string, sub: Submission): Promise<AckView> {
    const uploaded = this.roster.uploadStarted(participantId, sub.version);
    // The checks run in the queue; the returned ack settles after the durable write, which
    // does not hold the queue (boxed so the queue does not wait for it).
    return this.enqueue(() => ({ ack: this.intake.accept(participantId, sub) }))
      .then((r) => r.ack)
      .finally(uploaded);
  }

  /**
   * An upload was refused before or by the runtime (malformed, wrong shape, too stale…):
   * when a busy participant is not offered newer tasks (async), it is free again, so it is
   * sent the current task.
   */
  uploadRejected(participantId: string): void {
    if (this.policy.skipsBusy) this.requestTask(participantId, { resendConsensus: false });
  }

  async saveMetrics(participantId: string, version: number, metrics: Record<string, number>): Promise<void> {
    await this.store.saveMetrics(this.federationId, participantId, version, metrics);
  }

  close(): void {
    this.closed = true;
    this.policy.close();
    this.grace.end();
  }

  /** Resolves when every queued state change has finished (graceful shutdown, tests). */
  idle(): Promise<void> {
    return this.queue.then(
      () => this.intake.settled(),
      () => this.intake.settled(),
    );
  }
}
