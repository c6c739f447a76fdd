/**
 * The work in hand, from a validated Task to its acknowledged upload, one task at a time:
 * task-inputs.ts validates and keeps what the coordinator sent, task-queue.ts decides which
 * task runs, task-runner.ts trains and builds the strategy's upload, upload-sender.ts delivers
 * it. Work is not tied to a connection: training goes on through a reconnect and the upload
 * is sent again after the next Welcome (resend()).
 *
 * Upload rejections: STALE_ROUND / TOO_STALE and the shape/payload errors drop the result and
 * wait for the next Task; UNKNOWN_ROUND drops it and sends TaskRequest; RATE_LIMITED and
 * INTERNAL resend it after a delay, up to MAX_UPLOAD_TRIES sends.
 */
import {
  compressionName,
  type DecodedEnvelope,
  deflateRawAsync,
  expandTargetsIndices,
  expandTaskIndices,
  type PredictionEncoding,
  ProtocolError,
  type TargetsInit,
  type TaskInit,
} from '@mutua/proto';
import { backoffDelay } from './backoff.ts';
import { type ConnectionLoop, describe } from './connection-loop.ts';
import type { PreparedLearner } from './learner-preparation.ts';
import { PayloadDeltas } from './payload-delta.ts';
import { InOrder, inflateTargets, isCompressed } from './payload-inflate.ts';
import { SessionError } from './session-error.ts';
import type { ParticipantSessionOptions, SessionEvents } from './session-types.ts';
import { type InputExpectation, TaskInputs } from './task-inputs.ts';
import { type TaskInHand, TaskQueue } from './task-queue.ts';
import { runTask } from './task-runner.ts';
import { UPLOAD_BUILDERS } from './upload-builder.ts';
import { UploadSender } from './upload-sender.ts';
import type { SessionWelcome } from './welcome.ts';

/** The task in hand; `upload` is set once training produced its result. */
interface Work {
  task: TaskInHand;
  controller: AbortController;
  upload: UploadSender | null;
  /** Settles when training (and encoding) ended, however it ended. Never rejects. */
  running: Promise<void>;
  /** Resolves when the work leaves (acknowledged, dropped or aborted). */
  finished: Promise<void>;
  resolveFinished: () => void;
}

export interface WorkDriverDeps {
  loop: ConnectionLoop;
  options: Pick<ParticipantSessionOptions, 'reconnect' | 'random' | 'localEpochs'>;
  encodings: readonly PredictionEncoding[];
  /** This participant's model signature ('' = none). */
  signature: string;
  /** The Welcome in force and the prepared learner; null until both exist. */
  context(): { welcome: SessionWelcome; ready: PreparedLearner } | null;
  /** The session is stopping or closing: no new work starts. */
  ending(): boolean;
  emit<K extends 'task' | 'progress' | 'uploaded' | 'error'>(event: K, payload: SessionEvents[K]): void;
  /** The work phase changed (the session's `state` may have). */
  changed(): void;
}

export class WorkDriver {
  private readonly queue = new TaskQueue();
  private readonly inputs = new TaskInputs();
  private work: Work | null = null;
  /** Compressed Targets inflate asynchronously; messages are still handled in arrival order. */
  private readonly arrivals = new InOrder();
  /** Delta payloads' rows, both ways (payload-delta.ts). */
  readonly deltas = new PayloadDeltas();

  constructor(private readonly deps: WorkDriverDeps) {}

  get phase(): 'idle' | 'training' | 'uploading' {
    return this.work ? (this.work.upload ? 'uploading' : 'training') : 'idle';
  }

  /** The round being trained or awaiting its Ack; null when idle. */
  get round(): number | null {
    return this.work?.task.round ?? null;
  }

  get lastAckedRound(): number {
    return this.queue.lastAckedRound;
  }

  /** The coordinator's numbering restarted: forget acknowledgements, targets and weights of the old state. */
  restart(): void {
    this.queue.restart();
    this.inputs.reset();
    this.deltas.restart();
  }

  /** Targets as they arrived (inflated) → full Targets, via the delta rows when deltas were negotiated. */
  private undelta(t: TargetsInit, round: number): TargetsInit | null {
    const context = this.deps.context();
    if (!context?.welcome.delta) return t;
    const full = this.deltas.decodeTargets(t, context.welcome.federation.numClasses);
    if (!(full instanceof ProtocolError)) return full;
    const error = SessionError.fromProtocol(full, { round });
    // The rows held no longer match the coordinator's: on a new connection the Hello names the
    // version held, the coordinator sees it differs from its own and sends the next Targets full.
    if (full.code === 'DELTA_BASE_UNKNOWN') this.deps.loop.drop(error);
    else this.deps.emit('error', error);
    return null;
  }

  /** The batch rule when derived indices were negotiated (PROTOCOL.md, "Derived indices"). */
  private batchRule() {
    return this.deps.context()?.welcome.batchRule ?? undefined;
  }

  onTargets(arrived: TargetsInit): void {
    // Lists the coordinator left out are rebuilt first: inflating and delta rows follow them.
    const msg = expandTargetsIndices(arrived, this.batchRule());
    if (msg instanceof ProtocolError) {
      this.deps.emit('error', SessionError.fromProtocol(msg, { round: Number(arrived.version ?? 0) }));
      return;
    }
    const prepare = isCompressed(msg) ? () => inflateTargets(msg) : null;
    this.arrivals.run(prepare, (inflated) => {
      if (inflated instanceof ProtocolError) {
        this.deps.emit('error', SessionError.fromProtocol(inflated, { round: Number(msg.version ?? 0) }));
        return;
      }
      const full = this.undelta(inflated ?? msg, Number(msg.version ?? 0));
      if (!full) return;
      const error = this.inputs.acceptTargets(full, this.expectation()!);
      if (error) this.deps.emit('error', error);
    });
  }

  /** The newest-task rule (task-queue.ts), after inflating compressed targets. */
  onTask(arrived: TaskInit): void {
    const msg = expandTaskIndices(arrived, this.batchRule());
    if (msg instanceof ProtocolError) {
      this.deps.emit('error', SessionError.fromProtocol(msg, { round: Number(arrived.round ?? 0) }));
      return;
    }
    const t = msg.targets;
    const prepare = t && isCompressed(t) ? () => inflateTargets(t) : null;
    this.arrivals.run(prepare, (inflated) => {
      if (inflated instanceof ProtocolError) {
        this.deps.emit('error', SessionError.fromProtocol(inflated, { round: Number(msg.round ?? 0) }));
        return;
      }
      const full = t ? this.undelta(inflated ?? t, Number(msg.round ?? 0)) : null;
      if (t && !full) return;
      this.acceptTask(full ? { ...msg, targets: full } : msg);
    });
  }

  private acceptTask(msg: TaskInit): void {
    const task = this.inputs.acceptTask(msg, this.expectation()!);
    if (task instanceof SessionError) {
      this.deps.emit('error', task);
      return;
    }
    const outcome = this.queue.offer(task);
    const work = this.work;
    if (outcome.kind === 'start') this.start(outcome.task);
    else if (outcome.kind === 'queued' && outcome.abortInHand && work && !work.upload) {
      work.controller.abort(
        new DOMException(`round ${work.task.round} was superseded by round ${task.round}`, 'AbortError'),
      );
    }
  }

  /** The learner became ready: a task queued meanwhile starts. */
  startQueued(): void {
    const next = this.work ? null : this.queue.advance();
    if (next) this.start(next);
  }

  /** A new welcomed link: the upload in hand, if any, goes out on it. */
  resend(): void {
    if (this.work?.upload) this.send(this.work);
  }

  onAck(ack: NonNullable<DecodedEnvelope['ack']>, replyTo: number): void {
    const work = this.work;
    const up = work?.upload;
    // An Ack for nothing in hand (a repeat, or for an upload already settled) changes nothing.
    if (!work || !up?.isAnsweredBy(replyTo)) return;
    this.queue.acknowledged(work.task.round);
    const delta = this.deltas.acknowledged(work.task.round);
    const rows = up.body.predictions?.rows;
    this.deps.emit('uploaded', {
      round: work.task.round,
      ack: {
        round: Number(ack.round ?? work.task.round),
        duplicate: ack.duplicate ?? false,
        staleness: ack.staleness ?? 0,
        weight: ack.weight ?? 0,
      },
      frameBytes: up.frameBytes,
      rowsSent: delta ?? (rows == null ? undefined : rows),
      ...this.deps.loop.traffic,
      metrics: up.metrics,
    });
    this.finish(work);
  }

  /** A non-fatal Error from the coordinator: an upload rejection if it answers the upload in hand. */
  onRejected(error: ProtocolError, replyTo: number): void {
    const work = this.work;
    const up = work?.upload;
    if (!work || !up?.isAnsweredBy(replyTo)) {
      this.deps.emit('error', SessionError.fromProtocol(error));
      return;
    }
    this.deps.emit('error', SessionError.fromProtocol(error, { round: work.task.round }));
    if (error.code === 'DELTA_BASE_UNKNOWN' && this.resendFull(work)) return;
    const outcome = up.rejected(error, () => this.send(work));
    if (outcome === 'retrying') return;
    this.finish(work);
    if (outcome === 'request-task') this.requestTask();
  }

  /** The coordinator does not hold the rows a delta upload named: the same upload goes again, full. */
  private resendFull(work: Work): boolean {
    const body = work.upload?.body;
    const payload = this.deltas.fullUpload(work.task.round);
    if (!body?.predictions || !payload || !body.predictions.deltaBase) return false;
    const compress = compressionName(body.predictions.compression ?? 0) === 'deflate-raw';
    void (compress ? deflateRawAsync(payload) : Promise.resolve(payload)).then((bytes) => {
      if (this.work !== work || !work.upload) return;
      work.upload.replace({ predictions: { ...body.predictions, payload: bytes, deltaBase: 0 } });
      this.send(work);
    });
    return true;
  }

  requestTask(): void {
    this.deps.loop.transmit({ taskRequest: { lastRound: this.queue.lastAckedRound } });
  }

  /** Stopping: the training in hand is aborted at its next batch boundary; resolves when it ended. */
  async abortTraining(): Promise<void> {
    const work = this.work;
    if (!work || work.upload) return;
    work.controller.abort(new DOMException('the session is stopping', 'AbortError'));
    await work.running;
  }

  /** Stopping: waits up to timeoutMs for the Ack of an upload sent on the open link. */
  async settleUpload(timeoutMs: number): Promise<void> {
    const work = this.work;
    if (!work?.upload?.sentOnOpenLink()) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      work.finished,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Stopping and the link is gone: no Ack can come, the upload in hand is let go. */
  releaseUpload(): void {
    if (this.work?.upload) this.finish(this.work);
  }

  /** Closing: everything in hand is aborted and dropped. */
  async close(reason: string): Promise<void> {
    const work = this.work;
    if (work) {
      work.controller.abort(new DOMException(reason, 'AbortError'));
      await work.running;
      this.finish(work);
    }
    this.queue.clearQueued();
  }

  private expectation(): InputExpectation | null {
    const context = this.deps.context();
    if (!context) return null;
    return {
      federation: context.welcome.federation,
      sampleCount: context.ready.publicSetSize,
      encodings: this.deps.encodings,
      weights: { count: context.ready.weightCount, signature: this.deps.signature },
      localEpochs: this.deps.options.localEpochs,
    };
  }

  private start(task: TaskInHand): void {
    let resolveFinished!: () => void;
    const finished = new Promise<void>((resolve) => {
      resolveFinished = resolve;
    });
    const work: Work = {
      task,
      controller: new AbortController(),
      upload: null,
      running: Promise.resolve(),
      finished,
      resolveFinished,
    };
    this.work = work;
    this.deps.changed();
    this.deps.emit('task', {
      round: task.round,
      mode: task.mode,
      predictCount: task.predictIndices.length,
      targetsVersion: this.inputs.targets?.version ?? null,
      localEpochs: task.localEpochs,
      deadlineUnixMs: task.deadlineUnixMs,
    });
    work.running = this.run(work);
  }

  /** Runs the task and hands its result to an UploadSender. Never rejects. */
  private async run(work: Work): Promise<void> {
    const { signal } = work.controller;
    const { welcome, ready } = this.deps.context()!;
    try {
      const { body, metrics } = await runTask({
        learner: ready.learner,
        welcome,
        task: work.task,
        inputs: this.inputs,
        builder: UPLOAD_BUILDERS[welcome.federation.strategy],
        signature: this.deps.signature,
        deltas: this.deltas,
        signal,
        onProgress: (p) => {
          if (this.work === work && !signal.aborted)
            this.deps.emit('progress', { round: work.task.round, ...p });
        },
      });
      if (this.work !== work) return;
      const { loop, options } = this.deps;
      work.upload = new UploadSender(work.task.round, body, metrics, {
        transmit: (b) => loop.transmit(b, 0, this.deps.context()?.welcome.maxFrameBytes ?? 0),
        link: () => loop.welcomedLink,
        retryDelay: (tries, retryAfterMs) =>
          Math.max(retryAfterMs, backoffDelay(tries, options.reconnect, options.random)),
      });
      this.deps.changed();
      this.send(work);
    } catch (err) {
      if (this.work !== work) return;
      if (!signal.aborted) {
        const round = work.task.round;
        this.deps.emit(
          'error',
          new SessionError('LEARNER', `round ${round}: ${describe(err)}`, { round, cause: err }),
        );
      }
      this.finish(work);
    }
  }

  /** Sends the upload if a welcomed link is open and it was not yet sent on it; otherwise the next Welcome does. */
  private send(work: Work): void {
    const up = work.upload;
    if (!up || this.work !== work || !this.deps.loop.welcomedLink) return;
    const sent = up.send();
    if (typeof sent !== 'object') return;
    const round = work.task.round;
    const limit = this.deps.context()?.welcome.maxFrameBytes;
    this.deps.emit(
      'error',
      new SessionError(
        'FRAME_TOO_LARGE',
        `round ${round}: the upload is ${sent.tooLarge} bytes, above the coordinator's limit of ${limit}; use a smaller encoding`,
        { round },
      ),
    );
    this.finish(work);
  }

  /** Removes the work in hand and starts the queued task, if any. */
  private finish(work: Work): void {
    if (this.work !== work) return;
    work.upload?.cancel();
    this.work = null;
    work.resolveFinished();
    const next = this.queue.finished(!this.deps.ending() && this.deps.context() !== null);
    if (next) this.start(next);
    else this.deps.changed();
  }
}
