/**
 * Which task runs next: the newest-task rule, as a pure object (no transport, no timers, no
 * learner), so it is tested on its own.
 *
 * A Task for a round at or below the round in hand (training or awaiting its Ack), the
 * queued one, or the last acknowledged round is a repeat and is ignored. A newer Task while
 * busy is queued, replacing any queued one, and
 *   - sync: the work in hand is to be aborted (its round has closed, so the coordinator would
 *     reject it as STALE_ROUND);
 *   - async: the work in hand is finished and uploaded first (a stale contribution still
 *     counts, down-weighted), then the queued task starts.
 */
import type { ModeName } from '@mutua/proto';

export interface TaskInHand {
  round: number;
  mode: ModeName;
  predictIndices: Uint32Array;
  localEpochs: number;
  deadlineUnixMs: number;
}

export type OfferOutcome =
  /** Nothing was in hand: the task is now in hand; start it. */
  | { kind: 'start'; task: TaskInHand }
  /** Queued behind the task in hand; `abortInHand` when that one is superseded (sync). */
  | { kind: 'queued'; abortInHand: boolean }
  /** A repeat or an older round. */
  | { kind: 'ignored' };

export class TaskQueue {
  private inHand: TaskInHand | null = null;
  private queued: TaskInHand | null = null;
  private acked = 0;

  /** The task being trained or awaiting its Ack. */
  get current(): TaskInHand | null {
    return this.inHand;
  }

  get next(): TaskInHand | null {
    return this.queued;
  }

  /** The newest round the coordinator acknowledged (0 = none); TaskRequest names it. */
  get lastAckedRound(): number {
    return this.acked;
  }

  offer(task: TaskInHand): OfferOutcome {
    if (task.round <= this.acked) return { kind: 'ignored' };
    if (this.queued && task.round <= this.queued.round) return { kind: 'ignored' };
    const inHand = this.inHand;
    if (inHand) {
      if (task.round <= inHand.round) return { kind: 'ignored' };
      this.queued = task;
      return { kind: 'queued', abortInHand: inHand.mode === 'sync' };
    }
    this.inHand = task;
    return { kind: 'start', task };
  }

  acknowledged(round: number): void {
    this.acked = Math.max(this.acked, round);
  }

  /**
   * The task in hand left (acknowledged, dropped or aborted). Returns the queued task, now in
   * hand, when `startNext` and it is still newer than the last acknowledged round.
   */
  finished(startNext: boolean): TaskInHand | null {
    this.inHand = null;
    return startNext ? this.advance() : null;
  }

  /** With nothing in hand, takes the queued task (if still new) into hand. */
  advance(): TaskInHand | null {
    const next = this.queued;
    if (this.inHand || !next) return null;
    this.queued = null;
    if (next.round <= this.acked) return null;
    this.inHand = next;
    return next;
  }

  /** The coordinator's round numbering restarted: earlier acknowledgements refer to another federation state. */
  restart(): void {
    this.acked = 0;
  }

  /** Drops the queued task (the session is closing). */
  clearQueued(): void {
    this.queued = null;
  }
}
