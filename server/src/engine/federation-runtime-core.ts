/**
 * The state machine behind a FederationRuntime (federation-runtime.ts, which adds the
 * public surface): its state, the queue that orders every state change, recovery from
 * the store, and the internals that open versions and publish consensus versions.
 */

import type { RuntimeStore, StoredSubmission } from '../db/store.ts';
import type { ClusterPort } from './cluster-port.ts';
import { OnlineView } from './online-view.ts';
import { PeerGate } from './peer-gate.ts';
import { RecoveryGrace } from './recovery-grace.ts';
import { consensusToWire } from './replica-consensus.ts';
import { roundPolicyFor } from './round-policies.ts';
import type { RoundPolicy } from './round-policy.ts';
import { contributionMeta, loadVersions } from './runtime-recovery.ts';
import type { RuntimeOptions, Submission, VersionState } from './runtime-types.ts';
import { SessionRoster } from './session-roster.ts';
import { type FederationSettings, requiredParticipants } from './settings.ts';
import type { Consensus, RoundContext, Strategy } from './strategy.ts';
import { strategyFor } from './strategy-registry.ts';
import { SubmissionIntake } from './submission-intake.ts';
import { TaskViewCache } from './task-view-cache.ts';
import type { HoldPoint } from './test-hold.ts';
import { VersionLedger } from './version-ledger.ts';

export abstract class FederationRuntimeCore {
  /** A replica that does not own the federation loaded it from the store (see ReplicaSide). */
  protected abstract mirrorLoaded(): Promise<void>;
  /** A consensus this replica published (the trust ledger records it). */
  protected abstract published(consensus: Consensus): void;
  readonly federationId: string;
  protected readonly strategy: Strategy;
  protected readonly policy: RoundPolicy;
  protected readonly roster: SessionRoster;
  protected readonly versions = new VersionLedger();
  protected consensus: Consensus | null = null;
  protected paused: boolean;
  protected closed = false;
  protected readonly grace: RecoveryGrace;
  /** Serializes state changes that await the store, so a publish never interleaves with a submission. */
  protected queue: Promise<unknown> = Promise.resolve();
  /** Checks and writes uploads; publish and openVersion wait for its writes (see there). */
  protected readonly intake: SubmissionIntake;
  protected fedavgShape: { count: number; signature: string } | null = null;
  /** minParticipants: no version opens with fewer online (peer-gate.ts). */
  protected readonly gate: PeerGate;
  /** Online here and (in a cluster) on the other replicas: what the publish rules count. */
  protected readonly online: OnlineView;

  constructor(protected readonly options: RuntimeOptions) {
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
      // A replica that does not own the federation arms no deadline.
      isClosed: () => this.closed || !this.owner,
    });
    const views = new TaskViewCache(this.strategy, (version) => this.ctx(version));
    this.roster = new SessionRoster(options.settings, this.policy, views, {
      current: () => this.versions.head(),
      consensus: () => this.consensus,
      modelSignature: () => this.fedavgShape?.signature ?? '',
      halted: () => this.paused || this.closed,
      isClosed: () => this.closed,
    });
    this.online = new OnlineView(this.roster.sessions);
    this.intake = new SubmissionIntake({
      federationId: this.federationId,
      store: options.store,
      strategy: this.strategy,
      policy: this.policy,
      now,
      paused: () => this.paused,
      activeRows: options.settings.activeRows,
      current: () => this.versions.current,
      version: (version) => this.versions.get(version),
      testHold: (point) => this.testHold(point),
      recorded: (participantId, sub, v, stored) => this.recorded(participantId, sub, v, stored),
    });
  }

  /** Versions before the current one that recovery reads back (the round policy's). */
  get keepVersions(): number {
    return this.policy.keepVersions;
  }
  protected get store(): RuntimeStore {
    return this.options.store;
  }
  protected get cluster(): ClusterPort | undefined {
    return this.options.cluster;
  }
  /** Decides rounds and versions: always single-process; in a cluster, while holding the lease. */
  protected get owner(): boolean {
    return this.options.cluster?.owning() ?? true;
  }
  protected get settings(): FederationSettings {
    return this.options.settings;
  }
  protected now(): number {
    return (this.options.now ?? Date.now)();
  }

  async recover(): Promise<void> {
    const { store, decodeStored } = this.options;
    const state = await loadVersions(store, this.federationId, this.policy, decodeStored);
    this.versions.restore(state);
    const latest = state.latestConsensus;
    this.consensus = latest ? this.aggregate(latest.version, latest.sourceVersions) : null;
    this.roster.consensusChanged();
    // A replica that does not own the federation only mirrors what is stored.
    if (!this.owner) return this.mirrorLoaded();
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
      this.grace.start(ms, open, this.versions.all(), seen, this.online);
    this.policy.armTimers();
    // A crash after the round's last upload (or the buffer's K-th) but before its consensus
    // was saved left it complete yet open: nothing else would ever close it.
    if (!this.paused) await this.gate.recovering(() => this.maybeClose());
  }

  /**
   * Participants seen since the version open at the crash was opened: those sent its Task
   * (or that sent anything since). Last seen is written about once a second, so one
   * sent its Task within the last second before the crash may be missing.
   */
  protected async seenInOpenVersion(): Promise<string[]> {
    const open = this.versions.head();
    if (!this.settings.recoveryGraceMs || !open) return [];
    return this.store.participantsSeenSince(this.federationId, new Date(open.openedAt));
  }

  protected endRecoveryGrace(): void {
    this.grace.end();
    // A deadline that fell due during the grace was held back (see SyncRoundPolicy).
    this.policy.armTimers();
  }

  /** Closes the open round (sync) or publishes the next version (async) if it is complete. */
  protected async maybeClose(): Promise<void> {
    if (!this.owner) return;
    const reason = this.policy.publishReason({
      current: this.versions.head(),
      newSincePublish: this.versions.newSincePublish,
      online: this.online,
      graceActive: this.grace.active,
    });
    if (reason) await this.publish(reason);
  }

  protected async maybeCloseUnlessPaused(): Promise<void> {
    if (!this.paused && !this.closed) await this.maybeClose();
  }

  // ------------------------------------------------------------------ internals

  /** TEST-ONLY crash windows (test-hold.ts); resolves at once in production. */
  protected testHold(point: HoldPoint): Promise<void> | undefined {
    return this.options.testHold?.(point);
  }

  protected enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  protected ctx(version: number): RoundContext {
    return { settings: this.settings, version, publicSetSize: this.options.publicSetSize };
  }

  /** The submission is durable and new: it counts towards the next consensus. */
  protected recorded(
    participantId: string,
    sub: Submission,
    v: VersionState,
    stored: StoredSubmission,
  ): void {
    const { probs, params, numSamples } = sub;
    this.versions.record(v, { ...contributionMeta(stored), probs, params, numSamples });
    if (sub.params && !this.fedavgShape)
      this.fedavgShape = { count: sub.params.length, signature: sub.signature ?? '' };
    this.cluster?.uploaded(stored, sub.signature);
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

  protected async maybeOpenFirst(): Promise<void> {
    if (this.closed || this.paused || !this.owner) return;
    if (!this.gate.allows(this.online.size)) return;
    if (!this.gate.release()) {
      if (this.versions.current > 0 && this.versions.head()?.open) return;
      if (!this.policy.mayOpen(this.versions.current, this.online.size)) return;
    }
    await this.openVersion(this.versions.current + 1);
    this.roster.offerAll();
  }

  protected async openVersion(version: number, announce = true): Promise<void> {
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
    if (announce)
      this.cluster?.announce({
        type: 'opened',
        version,
        openedAt,
        consensusVersion: this.consensus?.version ?? 0,
      });
    this.options.onEvent?.({ type: 'round-opened', federationId: this.federationId, version });
    this.policy.armTimers();
    this.prune();
  }

  /** Aggregates the contributions behind the next consensus, persists it, opens the next version. */
  protected async publish(reason: string): Promise<void> {
    if (this.closed || !this.owner) return;
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
        included: sources.flatMap((v) =>
          [...(this.versions.get(v)?.contributions.keys() ?? [])].map((participantId) => ({
            participantId,
            version: v,
          })),
        ),
      });
      this.consensus = consensus;
      this.published(consensus);
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
    const hold = this.paused || this.gate.holdAfterPublish(this.online.size);
    if (!hold) await this.openVersion(version + 1, false);
    const next = hold ? null : this.versions.head()!;
    this.cluster?.announce({
      type: 'published',
      version,
      reason,
      submissions,
      consensus: consensus ? consensusToWire(consensus, this.fedavgShape?.signature ?? '') : null,
      opened: next && { version: next.version, openedAt: next.openedAt },
    });
    if (!hold) await this.testHold('before-tasks-sent');
    this.roster.announce(closed);
  }

  protected aggregate(version: number, sourceVersions: number[]): Consensus | null {
    return this.strategy.aggregate(this.ctx(version), this.versions.inputs(sourceVersions), this.consensus);
  }

  /** Drops versions no submission can reach any more, keeping those behind the consensus. */
  protected prune(): void {
    const needed = new Set(
      this.consensus?.kind === 'mutual' ? this.consensus.batches.map((b) => b.version) : [],
    );
    this.versions.prune(this.policy.keepVersions, needed);
  }
}
