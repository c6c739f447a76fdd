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

import { PeerGate } from './peer-gate.ts';
import { RecoveryGrace } from './recovery-grace.ts';
import { roundPolicyFor } from './round-policies.ts';
import type { RoundPolicy } from './round-policy.ts';
import { contributionMeta, loadVersions } from './runtime-recovery.ts';
import type { RuntimeStore, StoredSubmission } from './runtime-store.ts';
import type { AckView, RuntimeOptions, SessionPort, Submission, VersionState } from './runtime-types.ts';
import { SessionRoster } from './session-roster.ts';
import { type FederationSettings, requiredParticipants } from './settings.ts';
import type { Consensus, RoundContext, Strategy } from './strategy.ts';
import { strategyFor } from './strategy-registry.ts';
import { SubmissionIntake } from './submission-intake.ts';
import { TaskViewCache } from './task-view-cache.ts';
import type { HoldPoint } from './test-hold.ts';
import { VersionLedger } from './version-ledger.ts';

export class FederationRuntime {
  readonly federationId: string;
  private readonly strategy: Strategy;
  private readonly policy: RoundPolicy;
  private readonly roster: SessionRoster;
  private readonly versions = new VersionLedger();
  private consensus: Consensus | null = null;
  private paused: boolean;
  private closed = false;
  private readonly grace: RecoveryGrace;
  /** Serializes state changes that await the store, so a publish never interleaves with a submission. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Checks and writes uploads; publish and openVersion wait for its writes (see there). */
  private readonly intake: SubmissionIntake;
  private fedavgShape: { count: number; signature: string } | null = null;
  /** minParticipants: no version opens with fewer connected (peer-gate.ts). */
  private readonly gate: PeerGate;

  constructor(private readonly options: RuntimeOptions) {
    this.federationId = options.federationId;
    this.strategy = strategyFor(options.settings.strategy);
    this.paused = options.paused ?? false;
    this.gate = new PeerGate(requiredParticipants(options.settings), (online, minParticipants) =>
      options.onEvent?.({ type: 'waiting', federationId: this.federationId, online, minParticipants }),
    );
    const now = options.now ?? Date.now;
    this.grace = new RecoveryGrace(() =>
      this.enqueue(async () => {
        this.endRecoveryGrace();
        await this.maybeCloseUnlessPaused();
      }),
    );
    this.policy = roundPolicyFor(options.settings, {
      now,
      enqueue: (fn) => void this.enqueue(fn),
      current: () => this.versions.head(),
      graceActive: () => this.grace.active,
      publish: (reason) => this.publish(reason),
      isClosed: () => this.closed,
    });
    const views = new TaskViewCache(this.strategy, (version) => this.ctx(version));
    this.roster = new SessionRoster(options.settings, this.policy, views, {
      current: () => this.versions.head(),
      consensus: () => this.consensus,
      modelSignature: () => this.fedavgShape?.signature ?? '',
      halted: () => this.paused || this.closed,
      isClosed: () => this.closed,
    });
    this.intake = new SubmissionIntake({
      federationId: this.federationId,
      store: options.store,
      strategy: this.strategy,
      policy: this.policy,
      now,
      paused: () => this.paused,
      current: () => this.versions.current,
      version: (version) => this.versions.get(version),
      testHold: (point) => this.testHold(point),
      recorded: (participantId, sub, v, stored) => this.recorded(participantId, sub, v, stored),
    });
  }

  private get store(): RuntimeStore {
    return this.options.store;
  }
  private get settings(): FederationSettings {
    return this.options.settings;
  }
  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get currentVersion(): number {
    return this.versions.current;
  }
  get onlineCount(): number {
    return this.roster.size;
  }
  /** Participants needed before a round or version opens (settings.ts requiredParticipants). */
  get minParticipants(): number {
    return this.gate.required;
  }
  get consensusVersion(): number {
    return this.consensus?.version ?? 0;
  }
  /** Rows a prediction upload for `version` must have (undefined if the version is unknown). */
  batchRows(version: number): number | undefined {
    return this.versions.get(version)?.indices.length;
  }
  /** fedavg: parameter count and model signature, learned from the first accepted upload. */
  get modelShape(): { count: number; signature: string } | null {
    return this.fedavgShape;
  }
  isOnline(participantId: string): boolean {
    return this.roster.has(participantId);
  }

  /** Rebuilds state after a restart: open versions, their contributions, the newest consensus. */
  async recover(): Promise<void> {
    const { store, decodeStored } = this.options;
    const state = await loadVersions(store, this.federationId, this.policy, decodeStored);
    this.versions.restore(state);
    const latest = state.latestConsensus;
    if (latest) this.consensus = this.aggregate(latest.version, latest.sourceVersions);
    const seen = await this.seenInOpenVersion();
    // A crash inside publish() after the consensus was saved left its round open or the
    // next one unopened: finish that publish, or nobody who already contributed would
    // ever be asked again.
    if (latest && this.versions.current > 0 && latest.version >= this.versions.current) {
      const v = this.versions.head();
      if (state.currentStoredOpen) {
        await this.store.closeRound(this.federationId, this.versions.current, {
          closedAt: new Date(this.now()),
          submissions: v?.contributions.size ?? 0,
          aggregationMs: 0,
          reason: 'recovered',
        });
      }
      if (v && this.policy.closesOnPublish) v.open = false;
      await this.openVersion(this.versions.current + 1);
    }
    const open = this.versions.head();
    const ms = this.settings.recoveryGraceMs;
    if (ms && open && this.versions.current > 0)
      this.grace.start(ms, open, this.versions.all(), seen, this.roster.sessions);
    this.policy.armTimers();
    // A crash after the round's last upload (or the buffer's K-th) but before its consensus
    // was saved left it complete yet open: nothing else would ever close it.
    if (!this.paused) await this.maybeClose();
  }

  /**
   * Participants seen since the version open at the crash was opened: those sent its Task
   * (or that sent anything since). Last seen is written about once a second, so one
   * sent its Task within the last second before the crash may be missing.
   */
  private async seenInOpenVersion(): Promise<string[]> {
    const open = this.versions.head();
    if (!this.settings.recoveryGraceMs || !open) return [];
    return this.store.participantsSeenSince(this.federationId, new Date(open.openedAt));
  }

  private endRecoveryGrace(): void {
    this.grace.end();
    // A deadline that fell due during the grace was held back (see SyncRoundPolicy).
    this.policy.armTimers();
  }

  /** Closes the open round (sync) or publishes the next version (async) if it is complete. */
  private async maybeClose(): Promise<void> {
    const reason = this.policy.publishReason({
      current: this.versions.head(),
      newSincePublish: this.versions.newSincePublish,
      online: this.roster.sessions,
      graceActive: this.grace.active,
    });
    if (reason) await this.publish(reason);
  }

  join(port: SessionPort): void {
    this.roster.add(port);
    // Everyone awaited is back: the "every connected participant" rules apply as usual.
    if (this.grace.arrived(port.participantId)) this.endRecoveryGrace();
    this.enqueue(async () => {
      if (this.versions.current === 0 || !this.versions.head()?.open || this.gate.holding)
        await this.maybeOpenFirst();
      // Someone (re)joining may complete what the restart left open (everyone back).
      await this.maybeCloseUnlessPaused();
      this.roster.offer(port.participantId);
    });
  }

  private async maybeCloseUnlessPaused(): Promise<void> {
    if (!this.paused && !this.closed) await this.maybeClose();
  }

  leave(participantId: string, port?: SessionPort): void {
    if (!this.roster.remove(participantId, port)) return;
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

  // ------------------------------------------------------------------ internals

  /** TEST-ONLY crash windows (test-hold.ts); resolves at once in production. */
  private testHold(point: HoldPoint): Promise<void> | undefined {
    return this.options.testHold?.(point);
  }

  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private ctx(version: number): RoundContext {
    return { settings: this.settings, version, publicSetSize: this.options.publicSetSize };
  }

  /** The submission is durable and new: it counts towards the next consensus. */
  private recorded(participantId: string, sub: Submission, v: VersionState, stored: StoredSubmission): void {
    const { probs, params, numSamples } = sub;
    this.versions.record(v, { ...contributionMeta(stored), probs, params, numSamples });
    if (sub.params && !this.fedavgShape)
      this.fedavgShape = { count: sub.params.length, signature: sub.signature ?? '' };
    this.options.onEvent?.({
      type: 'submission',
      federationId: this.federationId,
      participantId,
      version: sub.version,
      staleness: stored.staleness,
    });
    // Publishing runs after the ack is returned: the ack must not wait on aggregation.
    queueMicrotask(() => {
      this.enqueue(async () => {
        await this.maybeClose();
        this.roster.offer(participantId);
      });
    });
  }

  private async maybeOpenFirst(): Promise<void> {
    if (this.closed || this.paused) return;
    if (!this.gate.allows(this.roster.size)) return;
    if (!this.gate.release()) {
      if (this.versions.current > 0 && this.versions.head()?.open) return;
      if (!this.policy.mayOpen(this.versions.current, this.roster.size)) return;
    }
    await this.openVersion(this.versions.current + 1);
    for (const id of this.roster.sessions.keys()) this.roster.offer(id);
  }

  private async openVersion(version: number): Promise<void> {
    await this.intake.settled();
    const plan = this.strategy.configureRound(this.ctx(version));
    const openedAt = this.now();
    await this.store.openRound(this.federationId, {
      version,
      indices: plan.predictIndices,
      status: 'open',
      openedAt: new Date(openedAt),
    });
    this.versions.add(version, plan.predictIndices, openedAt);
    this.options.onEvent?.({ type: 'round-opened', federationId: this.federationId, version });
    this.policy.armTimers();
    this.prune();
  }

  /** Aggregates the contributions behind the next consensus, persists it, opens the next version. */
  private async publish(reason: string): Promise<void> {
    if (this.closed) return;
    await this.intake.settled();
    const version = this.versions.current;
    const sources = this.policy.sourceVersions(this.versions.all(), version);
    const started = performance.now();
    const consensus = this.aggregate(version, sources);
    const aggregationMs = performance.now() - started;
    const open = this.versions.get(version)!;
    await this.testHold('before-consensus-saved');
    if (consensus) {
      await this.store.saveConsensus(this.federationId, {
        version,
        sourceVersions: sources,
        consensus,
        createdAt: new Date(this.now()),
      });
      this.consensus = consensus;
      this.roster.consensusChanged();
    }
    await this.testHold('after-consensus-saved');
    if (this.policy.closesOnPublish) open.open = false;
    await this.store.closeRound(this.federationId, version, {
      closedAt: new Date(this.now()),
      submissions: open.contributions.size,
      aggregationMs,
      reason,
    });
    this.versions.published();
    // The grace was for the round open at the restart, which is now closed.
    if (this.grace.running) this.endRecoveryGrace();
    const submissions = open.contributions.size;
    this.options.onEvent?.({
      type: 'round-closed',
      federationId: this.federationId,
      version,
      submissions,
      reason,
      aggregationMs,
    });
    const closed = { round: version, submissions, reason };
    if (this.paused || this.gate.holdAfterPublish(this.roster.size)) {
      this.roster.announce(closed);
      return;
    }
    await this.openVersion(version + 1);
    await this.testHold('before-tasks-sent');
    this.roster.announce(closed);
  }

  private aggregate(version: number, sourceVersions: number[]): Consensus | null {
    return this.strategy.aggregate(this.ctx(version), this.versions.inputs(sourceVersions));
  }

  /** Drops versions no submission can reach any more, keeping those behind the consensus. */
  private prune(): void {
    const needed = new Set(
      this.consensus?.kind === 'mutual' ? this.consensus.batches.map((b) => b.version) : [],
    );
    this.versions.prune(this.policy.keepVersions, needed);
  }
}
