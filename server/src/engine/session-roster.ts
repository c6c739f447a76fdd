/**
 * The participants online in one federation and what each has been sent: the current
 * task is offered once per participant and version, with the newest targets / global
 * weights only when it does not hold them yet (a consensus is never re-sent unchanged).
 */
import type { RoundPolicy } from './round-policy.ts';
import type { SessionPort, SessionState, TaskView, VersionState } from './runtime-types.ts';
import type { FederationSettings } from './settings.ts';
import type { Consensus } from './strategy.ts';
import type { TaskViewCache } from './task-view-cache.ts';

/** Milliseconds of announcing per event-loop turn before letting I/O (Acks) through (see announce()). */
const ANNOUNCE_SLICE_MS = 8;

/** What the roster reads from the runtime that owns it. */
export interface RosterHost {
  current(): VersionState | undefined;
  consensus(): Consensus | null;
  /** fedavg: the model signature the global weights belong to. */
  modelSignature(): string;
  /** Paused or closed: no task is offered. */
  halted(): boolean;
  isClosed(): boolean;
}

export class SessionRoster {
  /** By participant id; read (never changed) by the round policy's publish rules. */
  readonly sessions = new Map<string, SessionState>();

  constructor(
    private readonly settings: FederationSettings,
    private readonly policy: RoundPolicy,
    private readonly views: TaskViewCache,
    private readonly host: RosterHost,
  ) {}

  get size(): number {
    return this.sessions.size;
  }
  has(participantId: string): boolean {
    return this.sessions.has(participantId);
  }

  /** A new consensus replaced the previous one: targets computed for the old one are dropped. */
  consensusChanged(): void {
    this.views.consensusChanged();
  }

  add(port: SessionPort): void {
    this.sessions.set(port.participantId, {
      port,
      lastTaskVersion: 0,
      busy: false,
      uploading: new Set(),
      lastTargetsVersion: 0,
      lastWeightsVersion: 0,
    });
  }

  /** Removes the participant if `port` (when given) is still its connection. */
  remove(participantId: string, port?: SessionPort): boolean {
    const s = this.sessions.get(participantId);
    if (!s || (port && s.port !== port)) return false;
    this.sessions.delete(participantId);
    return true;
  }

  /** Forgets what was offered so the current task is offered again (with the consensus if asked). */
  reset(participantId: string, resendConsensus: boolean): boolean {
    const s = this.sessions.get(participantId);
    if (!s) return false;
    s.lastTaskVersion = 0;
    s.busy = false;
    if (resendConsensus) {
      s.lastTargetsVersion = 0;
      s.lastWeightsVersion = 0;
    }
    return true;
  }

  /** An upload for `version` arrived: the participant is no longer busy; returns "its ack or rejection went out". */
  uploadStarted(participantId: string, version: number): () => void {
    const s = this.sessions.get(participantId);
    if (!s) return () => {};
    s.busy = false;
    s.uploading.add(version);
    return () => s.uploading.delete(version);
  }

  /** offer() to every participant connected here. */
  offerAll(): void {
    for (const id of this.sessions.keys()) this.offer(id);
  }

  /** Sends the current task to a participant that has not yet worked on it. */
  offer(participantId: string): void {
    const s = this.sessions.get(participantId);
    const v = this.host.current();
    if (!s || !v || this.host.halted()) return;
    if (v.contributions.has(participantId)) return; // done with this version: wait for the next
    if (!v.open) return;
    if (s.lastTaskVersion === v.version) return; // already working on it
    if (this.policy.skipsBusy && s.busy) return; // busy with an older version
    // Its upload for this version is in flight: its own Ack path offers the next task.
    if (s.uploading.has(v.version)) return;
    s.lastTaskVersion = v.version;
    s.busy = true;
    let targets: TaskView['targets'] = null;
    let globalWeights: TaskView['globalWeights'] = null;
    const c = this.host.consensus();
    if (c && c.version > s.lastTargetsVersion && c.kind === 'mutual') {
      targets = this.views.targets(c, participantId, (s.port.activeRows ?? 0) > 0);
      s.lastTargetsVersion = c.version;
    }
    if (c && c.kind === 'fedavg' && c.version > s.lastWeightsVersion) {
      globalWeights = this.views.globalWeights(c, this.host.modelSignature());
      s.lastWeightsVersion = c.version;
    }
    const deadline = this.policy.taskDeadline(v);
    s.port.sendTask(
      this.views.view(v, this.settings, deadline, targets, globalWeights, s.port.activeRows ?? 0),
    );
  }

  /**
   * Tells every online participant that `closed` closed and offers it the new current
   * task (async: every participant not busy with a task), in slices of ANNOUNCE_SLICE_MS
   * per event-loop turn: with thousands online (and a leave-one-out target to compute and
   * encode for each contributor), one synchronous loop would hold every Ack back for as
   * long as it takes. It runs beside the runtime's queue (offer() only reads state, and
   * never offers a task twice); a participant that submits meanwhile is offered the new
   * task by its own Ack path anyway.
   */
  announce(closed: { round: number; submissions: number; reason: string }): void {
    const ids = [...this.sessions.keys()];
    const skipsBusy = this.policy.skipsBusy;
    let i = 0;
    const step = () => {
      if (this.host.isClosed()) return;
      const until = performance.now() + ANNOUNCE_SLICE_MS;
      while (i < ids.length) {
        const id = ids[i++]!;
        const s = this.sessions.get(id);
        if (!s) continue;
        // Async: one busy training hears of the versions it missed with its next task.
        if (skipsBusy && s.busy) continue;
        s.port.sendRoundClosed(closed);
        this.offer(id);
        if ((i & 15) === 0 && performance.now() >= until) break;
      }
      if (i < ids.length) setImmediate(step);
    };
    step();
  }
}
