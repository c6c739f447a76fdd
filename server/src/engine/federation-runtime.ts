/**
 * One running federation: who is connected, which round or consensus version is open,
 * the contributions behind the next consensus, timers. Strategies do the maths; the
 * store makes accepted contributions durable BEFORE they are acknowledged; the
 * WebSocket layer encodes what this class hands to a session.
 *
 * Sync and async modes share one mechanism, "versions": version v has a public batch
 * B_v; a task at v asks to predict B_v and carries the leave-one-out targets of the
 * newest consensus. Sync publishes the next version when the open round closes (quorum
 * or deadline) and rejects late work as STALE_ROUND; async publishes after `bufferK`
 * new contributions and accepts work up to `maxStaleness` versions old, weighted by
 * (1 + tau)^-a — so a slow participant never holds the others back.
 */

import { stalenessWeight } from './aggregation.ts';
import { FedAvgStrategy } from './fedavg-strategy.ts';
import { MutualStrategy } from './mutual-strategy.ts';
import type { RuntimeStore, StoredSubmission } from './runtime-store.ts';
import type { EncodingName, FederationSettings } from './settings.ts';
import type { Consensus, Contribution, RoundContext, Strategy } from './strategy.ts';
import type { HoldPoint, TestHold } from './test-hold.ts';

export interface TaskView {
  round: number;
  mode: 'sync' | 'async';
  predictIndices: Uint32Array;
  targets: { version: number; indices: Uint32Array; probs: Float32Array; contributors: number } | null;
  globalWeights: { round: number; params: Float32Array; signature: string } | null;
  deadlineUnixMs: number;
  localEpochs: number;
}

/** The runtime's view of a connected participant; implemented by the WebSocket layer. */
export interface SessionPort {
  readonly participantId: string;
  sendTask(task: TaskView): void;
  sendRoundClosed(info: { round: number; submissions: number; reason: string }): void;
}

export class RuntimeError extends Error {
  constructor(
    readonly code:
      | 'STALE_ROUND'
      | 'TOO_STALE'
      | 'UNKNOWN_ROUND'
      | 'WRONG_STRATEGY'
      | 'FEDERATION_PAUSED'
      | 'BAD_SHAPE',
    message: string,
  ) {
    super(message);
  }
}

export interface Submission {
  version: number;
  probs?: Float32Array;
  params?: Float32Array;
  numSamples?: number;
  /** fedavg: the model signature the weights belong to. */
  signature?: string;
  encoding: EncodingName;
  payload: Uint8Array;
  rows: number;
  classes: number;
  k: number;
  bytes: number;
  metrics: Record<string, number>;
}

export interface AckView {
  round: number;
  duplicate: boolean;
  staleness: number;
  weight: number;
}

interface VersionState {
  version: number;
  indices: Uint32Array;
  openedAt: number;
  open: boolean;
  /** Received contributions since the last publish (async: these versions feed the next consensus). */
  dirty: boolean;
  contributions: Map<string, Contribution>;
}

interface SessionState {
  port: SessionPort;
  lastTaskVersion: number;
  /**
   * Async: it holds a task it has not answered yet. A participant busy training is not
   * sent every newer version meanwhile (thousands of Tasks with targets per version, most
   * of them superseded unread); it gets the newest one when it submits, asks, or its
   * upload is rejected.
   */
  busy: boolean;
  /**
   * Versions it has an upload in flight for (from submit() until its Ack or rejection). It
   * is never offered one of these: the offer would mark it busy with work it has already
   * done, and the next publish would skip it (a reconnect offers the current task, and the
   * client re-sends its upload and asks for work at once).
   */
  uploading: Set<number>;
  lastTargetsVersion: number;
  lastWeightsVersion: number;
}

export interface RuntimeOptions {
  federationId: string;
  settings: FederationSettings;
  publicSetSize: number;
  store: RuntimeStore;
  /** Decodes a stored payload on recovery (the codec lives in the protocol layer). */
  decodeStored: (s: StoredSubmission) => { probs?: Float32Array; params?: Float32Array };
  now?: () => number;
  onEvent?: (event: RuntimeEvent) => void;
  /** The federation starts paused (recovery then re-evaluates nothing until it is resumed). */
  paused?: boolean;
  /** TEST-ONLY (see test-hold.ts): stops the runtime inside a named crash window. */
  testHold?: TestHold;
}

export type RuntimeEvent =
  | { type: 'round-opened'; federationId: string; version: number }
  | {
      type: 'round-closed';
      federationId: string;
      version: number;
      submissions: number;
      reason: string;
      aggregationMs: number;
    }
  | { type: 'submission'; federationId: string; participantId: string; version: number; staleness: number };

/** Milliseconds of announcing per event-loop turn before letting I/O (Acks) through (see announce()). */
const ANNOUNCE_SLICE_MS = 8;

export class FederationRuntime {
  readonly federationId: string;
  private settings: FederationSettings;
  private readonly strategy: Strategy;
  private readonly store: RuntimeStore;
  private readonly sessions = new Map<string, SessionState>();
  private readonly versions = new Map<number, VersionState>();
  private current = 0;
  private consensus: Consensus | null = null;
  private readonly targetsCache = new Map<string, TaskView['targets']>();
  /** Targets of everyone who did not contribute to the consensus (the same for all of them). */
  private sharedTargets: { version: number; view: TaskView['targets'] } | null = null;
  private contributors: { version: number; ids: Set<string> } | null = null;
  /**
   * TaskViews handed to several participants (same version, deadline and targets, or
   * none): one object each, so the WebSocket layer encodes each once, not once per
   * participant. Keyed by the targets / global weights they carry.
   */
  private readonly sharedViews = new Map<unknown, TaskView>();
  private sharedGlobalWeights: TaskView['globalWeights'] = null;
  private newSincePublish = 0;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private paused: boolean;
  private closed = false;
  /**
   * Recovery grace (settings.recoveryGraceMs): participants of the round / version open at
   * the restart that are neither back nor done with it. While any is awaited, the "every
   * connected participant" rules wait for them too; it empties as they come back, and is
   * cleared when the grace expires or that round / version closes.
   */
  private readonly graceAwaited = new Set<string>();
  private graceTimer: NodeJS.Timeout | null = null;
  /** Serializes state changes that await the store, so a publish never interleaves with a submission. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Submissions checked and being written, by `version:participant`. Their writes run
   * outside the queue (so concurrent ones can share one transaction: a group commit);
   * publish and openVersion wait for them, so a consensus still contains every
   * submission accepted before it, as if they had been written one by one.
   */
  private readonly writing = new Map<string, Promise<AckView>>();
  private readonly now: () => number;
  private fedavgShape: { count: number; signature: string } | null = null;

  constructor(private readonly options: RuntimeOptions) {
    this.federationId = options.federationId;
    this.settings = options.settings;
    this.store = options.store;
    this.strategy = options.settings.strategy === 'fedavg' ? new FedAvgStrategy() : new MutualStrategy();
    this.now = options.now ?? Date.now;
    this.paused = options.paused ?? false;
  }

  get currentVersion(): number {
    return this.current;
  }
  get onlineCount(): number {
    return this.sessions.size;
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
    return this.sessions.has(participantId);
  }

  /** Rebuilds state after a restart: open versions, their contributions, the newest consensus. */
  async recover(): Promise<void> {
    const keep = this.settings.mode === 'async' ? this.settings.async.maxStaleness : 0;
    // The probe only needs the current version: asking from the largest round number
    // loads no submissions beyond the consensus' sources (not the whole history).
    const probe = await this.store.loadState(this.federationId, 2 ** 31 - 1);
    const from = Math.max(1, probe.currentVersion - keep);
    const state = await this.store.loadState(this.federationId, from);
    this.current = state.currentVersion;
    for (const r of state.rounds) {
      const needed = r.version >= from || state.latestConsensus?.sourceVersions.includes(r.version);
      if (!needed) continue;
      this.versions.set(r.version, {
        version: r.version,
        indices: r.indices,
        openedAt: r.openedAt.getTime(),
        open: r.status === 'open' || (this.settings.mode === 'async' && r.version >= from),
        dirty: false,
        contributions: new Map(),
      });
    }
    for (const s of state.submissions) {
      const v = this.versions.get(s.version);
      if (!v) continue;
      v.contributions.set(s.participantId, { ...this.options.decodeStored(s), ...contributionMeta(s) });
    }
    if (state.latestConsensus) {
      this.consensus = this.aggregate(state.latestConsensus.version, state.latestConsensus.sourceVersions);
    }
    // Contributions that arrived after the newest consensus was published feed the next
    // one. A contribution to version v with staleness tau arrived while v + tau was
    // current, and consensus cv took everything that arrived up to version cv — so a late
    // (async) contribution to an older version, acknowledged just before a crash, still
    // counts towards the buffer and re-enters the next consensus.
    const cv = state.latestConsensus?.version ?? 0;
    this.newSincePublish = 0;
    for (const s of state.submissions) {
      const v = this.versions.get(s.version);
      if (!v || s.version + s.staleness <= cv) continue;
      v.dirty = true;
      this.newSincePublish++;
    }
    const seen = await this.seenInOpenVersion();
    // A crash inside publish() after the consensus was saved left its round open or the
    // next one unopened: finish that publish, or nobody who already contributed would
    // ever be asked again.
    if (state.latestConsensus && this.current > 0 && state.latestConsensus.version >= this.current) {
      const round = state.rounds.find((r) => r.version === this.current);
      const v = this.versions.get(this.current);
      if (round?.status === 'open') {
        await this.store.closeRound(this.federationId, this.current, {
          closedAt: new Date(this.now()),
          submissions: v?.contributions.size ?? 0,
          aggregationMs: 0,
          reason: 'recovered',
        });
      }
      if (v && this.settings.mode === 'sync') v.open = false;
      await this.openVersion(this.current + 1);
    }
    this.startRecoveryGrace(seen);
    if (this.settings.mode === 'sync' && this.versions.get(this.current)?.open) this.armDeadline();
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
    const open = this.versions.get(this.current);
    if (!this.settings.recoveryGraceMs || !open) return [];
    return this.store.participantsSeenSince(this.federationId, new Date(open.openedAt));
  }

  /**
   * Starts the recovery grace. The participants of the open round / version are those
   * seen since it opened (`seen`) and those that contributed to it or to the versions
   * before it that were loaded (sync: the previous round; async: the last maxStaleness
   * versions), which covers whoever was sent its Task in the last second before the crash.
   */
  private startRecoveryGrace(seen: readonly string[]): void {
    const ms = this.settings.recoveryGraceMs;
    const open = this.versions.get(this.current);
    if (!ms || !open || this.current === 0) return;
    for (const id of seen) if (!open.contributions.has(id)) this.graceAwaited.add(id);
    for (const v of this.versions.values()) {
      if (v.version > this.current) continue;
      for (const id of v.contributions.keys()) if (!open.contributions.has(id)) this.graceAwaited.add(id);
    }
    for (const id of this.sessions.keys()) this.graceAwaited.delete(id);
    if (this.graceAwaited.size === 0) return;
    this.graceTimer = setTimeout(() => {
      this.graceTimer = null;
      this.enqueue(async () => {
        this.endRecoveryGrace();
        await this.maybeCloseUnlessPaused();
      });
    }, ms);
  }

  private endRecoveryGrace(): void {
    this.graceAwaited.clear();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    // A deadline that fell due during the grace was held back (see armDeadline).
    if (this.settings.mode === 'sync' && this.versions.get(this.current)?.open) this.armDeadline();
  }

  /** Closes the open round (sync) or publishes the next version (async) if it is complete. */
  private async maybeClose(): Promise<void> {
    if (this.settings.mode === 'sync') await this.maybeCloseSync();
    else await this.maybePublishAsync();
  }

  join(port: SessionPort): void {
    this.sessions.set(port.participantId, {
      port,
      lastTaskVersion: 0,
      busy: false,
      uploading: new Set(),
      lastTargetsVersion: 0,
      lastWeightsVersion: 0,
    });
    // Everyone awaited is back: the "every connected participant" rules apply as usual.
    if (this.graceAwaited.delete(port.participantId) && this.graceAwaited.size === 0) this.endRecoveryGrace();
    this.enqueue(async () => {
      if (this.current === 0 || !this.versions.get(this.current)?.open) await this.maybeOpenFirst();
      // Someone (re)joining may complete what the restart left open (everyone back).
      await this.maybeCloseUnlessPaused();
      this.offerTask(port.participantId);
    });
  }

  private async maybeCloseUnlessPaused(): Promise<void> {
    if (!this.paused && !this.closed) await this.maybeClose();
  }

  leave(participantId: string, port?: SessionPort): void {
    const s = this.sessions.get(participantId);
    if (!s || (port && s.port !== port)) return;
    this.sessions.delete(participantId);
    // "All active participants" shrank: the open round may now be complete.
    this.enqueue(() => this.maybeClose());
  }

  /**
   * Re-sends the current task: with the newest targets / global weights for an explicit
   * TaskRequest (the client may have lost them), without them when the participant holds
   * them already (after STALE_ROUND / TOO_STALE): a consensus is never re-sent unchanged.
   */
  requestTask(participantId: string, options: { resendConsensus?: boolean } = {}): void {
    const s = this.sessions.get(participantId);
    if (!s) return;
    s.lastTaskVersion = 0;
    s.busy = false;
    if (options.resendConsensus !== false) {
      s.lastTargetsVersion = 0;
      s.lastWeightsVersion = 0;
    }
    this.enqueue(async () => {
      await this.maybeCloseUnlessPaused();
      this.offerTask(participantId);
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

  updateSettings(settings: FederationSettings): void {
    this.settings = settings;
  }

  submit(participantId: string, sub: Submission): Promise<AckView> {
    const s = this.sessions.get(participantId);
    if (s) {
      s.busy = false;
      s.uploading.add(sub.version);
    }
    // The checks run in the queue; the returned ack settles after the durable write, which
    // does not hold the queue (boxed so the queue does not wait for it).
    return this.enqueue(() => ({ ack: this.accept(participantId, sub) }))
      .then((r) => r.ack)
      .finally(() => s?.uploading.delete(sub.version));
  }

  /**
   * An upload was refused before or by the runtime (malformed, wrong shape, too stale…):
   * in async mode the participant is free again, so it is sent the current task.
   */
  uploadRejected(participantId: string): void {
    if (this.settings.mode === 'async') this.requestTask(participantId, { resendConsensus: false });
  }

  async saveMetrics(participantId: string, version: number, metrics: Record<string, number>): Promise<void> {
    await this.store.saveMetrics(this.federationId, participantId, version, metrics);
  }

  close(): void {
    this.closed = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  /** Resolves when every queued state change has finished (graceful shutdown, tests). */
  idle(): Promise<void> {
    return this.queue.then(
      () => this.writesSettled(),
      () => this.writesSettled(),
    );
  }

  /** Resolves when no accepted submission is still being written. */
  private async writesSettled(): Promise<void> {
    while (this.writing.size > 0) await Promise.allSettled([...this.writing.values()]);
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

  private async accept(participantId: string, sub: Submission): Promise<AckView> {
    if (this.paused)
      throw new RuntimeError(
        'FEDERATION_PAUSED',
        'the federation is paused; submissions resume when an operator resumes it',
      );
    const isFedAvg = this.settings.strategy === 'fedavg';
    if (isFedAvg !== Boolean(sub.params)) {
      throw new RuntimeError('WRONG_STRATEGY', `this federation runs ${this.settings.strategy}`);
    }
    const v = this.versions.get(sub.version);
    if (!v || sub.version > this.current || sub.version < 1) {
      // Round 0 (the proto3 default: a client that forgot to set it) was never issued.
      if (sub.version < 1) {
        throw new RuntimeError(
          'UNKNOWN_ROUND',
          `round ${sub.version} was never issued (current is ${this.current})`,
        );
      }
      if (sub.version < this.current && this.settings.mode === 'sync') {
        throw new RuntimeError(
          'STALE_ROUND',
          `round ${sub.version} is closed; the current round is ${this.current}`,
        );
      }
      if (sub.version < this.current) {
        throw new RuntimeError(
          'TOO_STALE',
          `version ${sub.version} is ${this.current - sub.version} versions old (max ${this.settings.async.maxStaleness})`,
        );
      }
      throw new RuntimeError(
        'UNKNOWN_ROUND',
        `round ${sub.version} was never issued (current is ${this.current})`,
      );
    }
    const existing = v.contributions.get(participantId);
    if (existing)
      return { round: sub.version, duplicate: true, staleness: existing.staleness, weight: existing.weight };
    const key = `${sub.version}:${participantId}`;
    const inFlight = this.writing.get(key);
    if (inFlight) return { ...(await inFlight), duplicate: true };
    const staleness = this.current - sub.version;
    if (this.settings.mode === 'sync' && !v.open) {
      throw new RuntimeError(
        'STALE_ROUND',
        `round ${sub.version} is closed; the current round is ${this.current}`,
      );
    }
    if (this.settings.mode === 'async' && staleness > this.settings.async.maxStaleness) {
      throw new RuntimeError(
        'TOO_STALE',
        `version ${sub.version} is ${staleness} versions old (max ${this.settings.async.maxStaleness})`,
      );
    }
    if (sub.probs && sub.rows !== v.indices.length) {
      throw new RuntimeError(
        'BAD_SHAPE',
        `round ${sub.version} has ${v.indices.length} public samples, got ${sub.rows} rows`,
      );
    }
    const weight =
      this.settings.mode === 'async' ? stalenessWeight(staleness, this.settings.async.stalenessExponent) : 1;
    const stored: StoredSubmission = {
      participantId,
      version: sub.version,
      staleness,
      weight,
      encoding: sub.encoding,
      payload: sub.payload,
      rows: sub.rows,
      classes: sub.classes,
      k: sub.k,
      numSamples: sub.numSamples ?? 0,
      bytes: sub.bytes,
      metrics: sub.metrics,
      receivedAt: new Date(this.now()),
    };
    const write = this.commit(participantId, sub, v, stored);
    this.writing.set(key, write);
    const done = () => this.writing.delete(key);
    write.then(done, done);
    return write;
  }

  /** Makes an accepted submission durable, then counts it (and maybe publishes). */
  private async commit(
    participantId: string,
    sub: Submission,
    v: VersionState,
    stored: StoredSubmission,
  ): Promise<AckView> {
    const { staleness, weight } = stored;
    await this.testHold('before-submission-saved');
    const { duplicate } = await this.store.saveSubmission(this.federationId, stored);
    await this.testHold('after-submission-saved');
    if (duplicate) return { round: sub.version, duplicate: true, staleness, weight };
    v.contributions.set(participantId, {
      ...contributionMeta(stored),
      probs: sub.probs,
      params: sub.params,
      numSamples: sub.numSamples,
    });
    v.dirty = true;
    this.newSincePublish++;
    if (sub.params && !this.fedavgShape)
      this.fedavgShape = { count: sub.params.length, signature: sub.signature ?? '' };
    this.options.onEvent?.({
      type: 'submission',
      federationId: this.federationId,
      participantId,
      version: sub.version,
      staleness,
    });
    const ack: AckView = { round: sub.version, duplicate: false, staleness, weight };
    // Publishing runs after the ack is returned: the ack must not wait on aggregation.
    queueMicrotask(() => {
      this.enqueue(async () => {
        await this.maybeClose();
        this.offerTask(participantId);
      });
    });
    return ack;
  }

  private async maybeOpenFirst(): Promise<void> {
    if (this.closed || this.paused) return;
    if (this.current > 0 && this.versions.get(this.current)?.open) return;
    if (this.current > 0 && this.settings.mode === 'async') return;
    const min = this.settings.mode === 'sync' ? Math.max(1, this.settings.sync.minParticipants) : 1;
    if (this.sessions.size < min) return;
    await this.openVersion(this.current + 1);
    for (const id of this.sessions.keys()) this.offerTask(id);
  }

  private async openVersion(version: number): Promise<void> {
    await this.writesSettled();
    const plan = this.strategy.configureRound(this.ctx(version));
    const openedAt = this.now();
    await this.store.openRound(this.federationId, {
      version,
      indices: plan.predictIndices,
      status: 'open',
      openedAt: new Date(openedAt),
    });
    this.versions.set(version, {
      version,
      indices: plan.predictIndices,
      openedAt,
      open: true,
      dirty: false,
      contributions: new Map(),
    });
    this.current = version;
    this.options.onEvent?.({ type: 'round-opened', federationId: this.federationId, version });
    if (this.settings.mode === 'sync') this.armDeadline();
    this.prune();
  }

  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    const ms = this.settings.sync.deadlineMs;
    const v = this.versions.get(this.current);
    if (!ms || !v || this.closed) return;
    const wait = Math.max(0, v.openedAt + ms - this.now());
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null;
      this.enqueue(async () => {
        const open = this.versions.get(this.current);
        if (!open?.open || open.version !== v.version) return;
        // Restarted: the deadline is re-armed when the grace ends (endRecoveryGrace).
        if (this.graceAwaited.size > 0) return;
        if (open.contributions.size === 0) {
          // Nothing to aggregate: keep the round open for another deadline period.
          open.openedAt = this.now();
          this.armDeadline();
          return;
        }
        await this.publish('deadline');
      });
    }, wait);
  }

  private async maybeCloseSync(): Promise<void> {
    const v = this.versions.get(this.current);
    if (!v?.open || v.contributions.size === 0) return;
    const quorum = this.settings.sync.quorum;
    const done = quorum > 0 ? v.contributions.size >= quorum : this.everyoneContributed(v);
    if (done) await this.publish('quorum');
  }

  /**
   * Quorum 0: every connected participant (and, after a restart, every one awaited) has
   * contributed. Checked on every join too, so the size test keeps a reconnect storm O(1)
   * per Hello while most participants have not contributed yet.
   */
  private everyoneContributed(v: VersionState): boolean {
    if (this.graceAwaited.size > 0 || v.contributions.size < this.sessions.size) return false;
    for (const id of this.sessions.keys()) if (!v.contributions.has(id)) return false;
    return true;
  }

  /**
   * Async publishes after `bufferK` new contributions, or sooner when every participant
   * online has already contributed to the current version: they would all wait for a
   * version that fewer than `bufferK` workers can never complete (the last ones of a
   * federation, or one smaller than `bufferK`).
   */
  private async maybePublishAsync(): Promise<void> {
    if (this.newSincePublish === 0) return;
    if (this.newSincePublish >= this.settings.async.bufferK) return this.publish('buffer');
    const v = this.versions.get(this.current);
    // The size test first keeps this O(1) on almost every submission.
    if (!v || this.sessions.size === 0 || v.contributions.size < this.sessions.size) return;
    if (this.graceAwaited.size > 0) return;
    for (const id of this.sessions.keys()) if (!v.contributions.has(id)) return;
    await this.publish('all-waiting');
  }

  /** Aggregates the contributions behind the next consensus, persists it, opens the next version. */
  private async publish(reason: string): Promise<void> {
    if (this.closed) return;
    await this.writesSettled();
    const version = this.current;
    const dirty = this.settings.mode === 'sync' ? [version] : this.dirtyVersions();
    const started = performance.now();
    const consensus = this.aggregate(version, dirty);
    const aggregationMs = performance.now() - started;
    const open = this.versions.get(version)!;
    await this.testHold('before-consensus-saved');
    if (consensus) {
      await this.store.saveConsensus(this.federationId, {
        version,
        sourceVersions: dirty,
        payload: consensusPayload(consensus),
        createdAt: new Date(this.now()),
      });
      this.consensus = consensus;
      this.targetsCache.clear();
    }
    await this.testHold('after-consensus-saved');
    if (this.settings.mode === 'sync') open.open = false;
    await this.store.closeRound(this.federationId, version, {
      closedAt: new Date(this.now()),
      submissions: open.contributions.size,
      aggregationMs,
      reason,
    });
    this.newSincePublish = 0;
    for (const v of this.versions.values()) v.dirty = false;
    // The grace was for the round open at the restart, which is now closed.
    if (this.graceTimer || this.graceAwaited.size > 0) this.endRecoveryGrace();
    this.options.onEvent?.({
      type: 'round-closed',
      federationId: this.federationId,
      version,
      submissions: open.contributions.size,
      reason,
      aggregationMs,
    });
    const closed = { round: version, submissions: open.contributions.size, reason };
    if (this.paused) {
      this.announce(closed);
      return;
    }
    await this.openVersion(version + 1);
    await this.testHold('before-tasks-sent');
    this.announce(closed);
  }

  /**
   * Tells every online participant that `closed` closed and offers it the new current
   * task (async: every participant not busy with a task), in slices of ANNOUNCE_SLICE_MS per event-loop turn: with thousands online (and
   * a leave-one-out target to compute and encode for each contributor), one synchronous
   * loop would hold every Ack back for as long as it takes. It runs beside the queue
   * (offerTask only reads state, and never offers a task twice); a participant that
   * submits meanwhile is offered the new task by its own Ack path anyway.
   */
  private announce(closed: { round: number; submissions: number; reason: string }): void {
    const ids = [...this.sessions.keys()];
    const async = this.settings.mode === 'async';
    let i = 0;
    const step = () => {
      if (this.closed) return;
      const until = performance.now() + ANNOUNCE_SLICE_MS;
      while (i < ids.length) {
        const id = ids[i++]!;
        const s = this.sessions.get(id);
        if (!s) continue;
        // Async: one busy training hears of the versions it missed with its next task.
        if (async && s.busy) continue;
        s.port.sendRoundClosed(closed);
        this.offerTask(id);
        if ((i & 15) === 0 && performance.now() >= until) break;
      }
      if (i < ids.length) setImmediate(step);
    };
    step();
  }

  private dirtyVersions(): number[] {
    return [...this.versions.values()]
      .filter((v) => v.dirty && v.contributions.size > 0)
      .map((v) => v.version);
  }

  private aggregate(version: number, sourceVersions: number[]): Consensus | null {
    const byVersion = new Map<number, { indices: Uint32Array; contributions: Contribution[] }>();
    for (const sv of sourceVersions) {
      const v = this.versions.get(sv);
      if (v && v.contributions.size > 0)
        byVersion.set(sv, { indices: v.indices, contributions: [...v.contributions.values()] });
    }
    return this.strategy.aggregate(this.ctx(version), byVersion, []);
  }

  /** Sends the current task to a participant that has not yet worked on it. */
  private offerTask(participantId: string): void {
    const s = this.sessions.get(participantId);
    const v = this.versions.get(this.current);
    if (!s || !v || this.paused || this.closed) return;
    if (v.contributions.has(participantId)) return; // done with this version: wait for the next
    if (this.settings.mode === 'sync' && !v.open) return;
    if (s.lastTaskVersion === v.version) return; // already working on it
    if (this.settings.mode === 'async' && s.busy) return; // busy with an older version
    // Its upload for this version is in flight: its own Ack path offers the next task.
    if (s.uploading.has(v.version)) return;
    s.lastTaskVersion = v.version;
    s.busy = true;
    let targets: TaskView['targets'] = null;
    let globalWeights: TaskView['globalWeights'] = null;
    const c = this.consensus;
    if (c && c.version > s.lastTargetsVersion && c.kind === 'mutual') {
      targets = this.targetsFor(participantId);
      s.lastTargetsVersion = c.version;
    }
    if (c && c.kind === 'fedavg' && c.version > s.lastWeightsVersion) {
      if (this.sharedGlobalWeights?.round !== c.version) {
        this.sharedGlobalWeights = {
          round: c.version,
          params: c.params,
          signature: this.fedavgShape?.signature ?? '',
        };
      }
      globalWeights = this.sharedGlobalWeights;
      s.lastWeightsVersion = c.version;
    }
    const deadline =
      this.settings.mode === 'sync' && this.settings.sync.deadlineMs
        ? v.openedAt + this.settings.sync.deadlineMs
        : 0;
    const shared = targets === null || targets === this.sharedTargets?.view;
    const key = globalWeights ?? targets;
    let view = shared ? this.sharedViews.get(key) : undefined;
    if (
      !view ||
      view.round !== v.version ||
      view.deadlineUnixMs !== deadline ||
      view.localEpochs !== this.settings.localEpochs ||
      view.mode !== this.settings.mode
    ) {
      view = {
        round: v.version,
        mode: this.settings.mode,
        predictIndices: v.indices,
        targets,
        globalWeights,
        deadlineUnixMs: deadline,
        localEpochs: this.settings.localEpochs,
      };
      if (shared) {
        if (this.sharedViews.size > 16) this.sharedViews.clear();
        this.sharedViews.set(key, view);
      }
    }
    s.port.sendTask(view);
  }

  private targetsFor(participantId: string): TaskView['targets'] {
    const c = this.consensus;
    if (!c || !this.strategy.targetsFor) return null;
    // Leave-one-out leaves nobody out for a participant that is not in the consensus:
    // those all get the same targets, computed (and later encoded) once.
    if (c.kind === 'mutual') {
      if (this.contributors?.version !== c.version) {
        const ids = new Set<string>();
        for (const b of c.batches) for (const x of b.contributions) ids.add(x.participantId);
        this.contributors = { version: c.version, ids };
      }
      if (!this.contributors.ids.has(participantId)) {
        if (this.sharedTargets?.version !== c.version) {
          const t = this.strategy.targetsFor(this.ctx(c.version), c, participantId);
          this.sharedTargets = { version: c.version, view: t ? { version: c.version, ...t } : null };
        }
        return this.sharedTargets.view;
      }
    }
    const key = `${c.version}:${participantId}`;
    if (this.targetsCache.has(key)) return this.targetsCache.get(key)!;
    const t = this.strategy.targetsFor(this.ctx(c.version), c, participantId);
    const view = t ? { version: c.version, ...t } : null;
    this.targetsCache.set(key, view);
    return view;
  }

  /** Drops versions no submission can reach any more, keeping those behind the consensus. */
  private prune(): void {
    const keep = this.settings.mode === 'async' ? this.settings.async.maxStaleness : 0;
    const needed = new Set(
      this.consensus?.kind === 'mutual' ? this.consensus.batches.map((b) => b.version) : [],
    );
    for (const v of [...this.versions.keys()]) {
      if (v < this.current - keep && !needed.has(v)) this.versions.delete(v);
      else if (this.settings.mode === 'async' && v < this.current - keep) this.versions.get(v)!.open = false;
    }
  }
}

function contributionMeta(s: StoredSubmission): Contribution {
  return {
    participantId: s.participantId,
    version: s.version,
    staleness: s.staleness,
    weight: s.weight,
    numSamples: s.numSamples,
  };
}

/** The stored form of a consensus: float32 little-endian rows (mutual) or parameters (fedavg). */
function consensusPayload(c: Consensus): Uint8Array {
  if (c.kind === 'fedavg')
    return new Uint8Array(
      c.params.buffer.slice(c.params.byteOffset, c.params.byteOffset + c.params.byteLength),
    );
  const total = c.batches.reduce((a, b) => a + b.all.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const b of c.batches) {
    out.set(b.all, o);
    o += b.all.length;
  }
  return new Uint8Array(out.buffer);
}
