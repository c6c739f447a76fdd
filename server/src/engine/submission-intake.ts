/**
 * Takes an upload from "received" to "durable": checks it against the federation's
 * strategy and round policy, answers duplicates, and writes it to the store. Writes run
 * outside the runtime's queue, so concurrent ones can share one transaction (a group
 * commit); the runtime waits for them (settled()) before it publishes or opens a version,
 * so a consensus still contains every submission accepted before it.
 */

import type { RuntimeStore, StoredSubmission } from '../db/store.ts';
import { activeCount } from './active-rows.ts';
import type { RoundPolicy } from './round-policy.ts';
import { type AckView, RuntimeError, type Submission, type VersionState } from './runtime-types.ts';
import type { Strategy } from './strategy.ts';
import type { HoldPoint } from './test-hold.ts';

/** What the intake reads from, and reports to, the runtime that owns it. */
export interface IntakeHost {
  readonly federationId: string;
  readonly store: RuntimeStore;
  readonly strategy: Strategy;
  readonly policy: RoundPolicy;
  now(): number;
  paused(): boolean;
  /** settings.activeRows (0: off). */
  readonly activeRows: number;
  current(): number;
  version(version: number): VersionState | undefined;
  /** TEST-ONLY crash windows (test-hold.ts). */
  testHold(point: HoldPoint): Promise<void> | undefined;
  /** The submission is durable and new: count it. */
  recorded(participantId: string, sub: Submission, v: VersionState, stored: StoredSubmission): void;
}

export class SubmissionIntake {
  /** Submissions checked and being written, by `version:participant`. */
  private readonly writing = new Map<string, Promise<AckView>>();

  constructor(private readonly host: IntakeHost) {}

  /** Resolves when no accepted submission is still being written. */
  async settled(): Promise<void> {
    while (this.writing.size > 0) await Promise.allSettled([...this.writing.values()]);
  }

  /** Checks `sub` (in the runtime's queue); the returned ack settles once it is durable. */
  async accept(participantId: string, sub: Submission): Promise<AckView> {
    const { policy } = this.host;
    if (this.host.paused())
      throw new RuntimeError(
        'FEDERATION_PAUSED',
        'the federation is paused; submissions resume when an operator resumes it',
      );
    const v = this.heldVersion(sub);
    const existing = v.contributions.get(participantId);
    if (existing)
      return { round: sub.version, duplicate: true, staleness: existing.staleness, weight: existing.weight };
    const key = `${sub.version}:${participantId}`;
    const inFlight = this.writing.get(key);
    if (inFlight) return { ...(await inFlight), duplicate: true };
    const { staleness, weight } = policy.admit(v, this.host.current());
    // Active rows: a participant given only the batch's first rows uploads those.
    const active = activeCount(this.host.activeRows, v.indices.length);
    if (sub.probs && sub.rows !== v.indices.length && (active === 0 || sub.rows !== active)) {
      throw new RuntimeError(
        'BAD_SHAPE',
        `round ${sub.version} has ${v.indices.length} public samples${active ? ` (${active} active)` : ''}, got ${sub.rows} rows`,
      );
    }
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
      receivedAt: new Date(this.host.now()),
    };
    const write = this.commit(participantId, sub, v, stored);
    this.writing.set(key, write);
    const done = () => this.writing.delete(key);
    write.then(done, done);
    return write;
  }

  /** The version `sub` answers, if it is of this strategy's kind and still held. */
  private heldVersion(sub: Submission): VersionState {
    const { strategy, policy } = this.host;
    if ((strategy.uploads === 'weights') !== Boolean(sub.params)) {
      throw new RuntimeError('WRONG_STRATEGY', `this federation runs ${strategy.name}`);
    }
    const current = this.host.current();
    const v = this.host.version(sub.version);
    if (v && sub.version <= current && sub.version >= 1) return v;
    // Round 0 (the proto3 default: a client that forgot to set it) was never issued.
    if (sub.version >= 1 && sub.version < current) throw policy.rejectGone(sub.version, current);
    throw new RuntimeError('UNKNOWN_ROUND', `round ${sub.version} was never issued (current is ${current})`);
  }

  private async commit(
    participantId: string,
    sub: Submission,
    v: VersionState,
    stored: StoredSubmission,
  ): Promise<AckView> {
    const { staleness, weight } = stored;
    await this.host.testHold('before-submission-saved');
    const { duplicate } = await this.host.store.saveSubmission(this.host.federationId, stored);
    await this.host.testHold('after-submission-saved');
    if (duplicate) return { round: sub.version, duplicate: true, staleness, weight };
    this.host.recorded(participantId, sub, v, stored);
    return { round: sub.version, duplicate: false, staleness, weight };
  }
}
