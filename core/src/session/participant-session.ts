/**
 * The participant side of the Mutua protocol, isomorphic (the Node CLI and the browser Web
 * Worker run the same code over different Transports). This class is the orchestrator; each
 * job lives in its own unit:
 *
 *   connection-loop.ts      connect, Hello, Welcome timeout, heartbeat, reconnect with backoff
 *   token-keeper.ts         which token Hello carries; resume tokens stored; join fallback
 *   learner-preparation.ts  public-set fetch and check, learner built once per session
 *   work-driver.ts          the work in hand, Task to Ack, over the four units below
 *   task-inputs.ts          Tasks and Targets validated; newest targets / global weights kept
 *   task-queue.ts           the newest-task rule (which task runs, which is queued or ignored)
 *   task-runner.ts          one task: global weights (loadGlobalWeights), training, upload body
 *   mutual-upload.ts, fedavg-upload.ts   one upload builder per strategy (upload-builder.ts)
 *   upload-sender.ts        one upload delivered until acknowledged, resent after rejections
 *   session-types.ts        the options and events below, re-exported here
 *
 * `state` is the connection's (connection-loop.ts), except while connected, where it is the
 * work's (ready | training | uploading), and `closing` once stop() was called. Work is not
 * tied to a connection: training goes on through a reconnect, and an upload whose Ack did not
 * arrive is sent again after the next Welcome. Invalid messages from the coordinator (a Task
 * failing validateTask, a bad frame) are reported as non-fatal `error` events and ignored.
 *
 * stop(): aborts training at the next batch boundary, waits briefly for an Ack already due,
 * sends Leave, closes. Resolves when the session is closed.
 */

import {
  type BodyName,
  type CompressionName,
  compressionValue,
  type DecodedEnvelope,
  encodingValue,
  PREDICTION_ENCODINGS,
  type PredictionEncoding,
  type TargetsInit,
  type TaskInit,
  type WelcomeInit,
  weightEncodingValue,
} from '@mutua/proto';
import { type Body, ConnectionLoop, describe } from './connection-loop.ts';
import { TypedEmitter } from './emitter.ts';
import { LearnerPreparation } from './learner-preparation.ts';
import { SessionError } from './session-error.ts';
import type { ClosedEvent, ParticipantSessionOptions, SessionEvents, SessionState } from './session-types.ts';
import { defaultStorageKey, type HelloToken, TokenKeeper } from './token-keeper.ts';
import { parseWelcome, type SessionWelcome } from './welcome.ts';
import { WorkDriver } from './work-driver.ts';

export { resolvePublicSetUrl } from './learner-preparation.ts';
export type * from './session-types.ts';
export { defaultStorageKey } from './token-keeper.ts';

const KIND = { node: 1, browser: 2, other: 3 } as const;

export class ParticipantSession extends TypedEmitter<SessionEvents> {
  /** Resolves when the session has closed (after stop() or a fatal error). Never rejects. */
  readonly done: Promise<ClosedEvent>;

  private readonly opts: ParticipantSessionOptions;
  private readonly encodings: readonly PredictionEncoding[];
  private readonly compressions: readonly CompressionName[];
  private readonly tokens: TokenKeeper;
  private readonly loop: ConnectionLoop;
  private readonly preparation: LearnerPreparation;
  private readonly work: WorkDriver;
  /** opts.model.signature, else the given learner's: what Hello states and fedavg uploads carry. */
  private readonly signature: string;
  private resolveDone!: (e: ClosedEvent) => void;
  /** 'closing' while finish() waits for the work to stop. */
  private lifecycle: 'open' | 'closing' | 'closed' = 'open';
  private lastState: SessionState = 'disconnected';
  private welcome: SessionWelcome | null = null;

  constructor(options: ParticipantSessionOptions) {
    super();
    if (!options.joinToken && !options.resumeToken && !options.storage) {
      throw new TypeError(
        'ParticipantSession: a joinToken, a resumeToken or a storage holding one is required',
      );
    }
    this.opts = options;
    // float32 is the one encoding every implementation must support (PROTOCOL.md).
    const offered = options.encodings?.length ? [...options.encodings] : [...PREDICTION_ENCODINGS];
    if (!offered.includes('float32')) offered.push('float32');
    this.encodings = offered;
    this.compressions = [
      ...(options.compressions ?? (typeof CompressionStream === 'function' ? ['deflate-raw' as const] : [])),
    ];
    this.tokens = new TokenKeeper(
      options.storageKey ?? defaultStorageKey(options.url, options.joinToken),
      options.joinToken,
      options.resumeToken,
      options.storage,
    );
    const given = options.learner;
    this.signature =
      options.model.signature ?? (typeof given === 'function' ? undefined : given.modelSignature) ?? '';
    this.preparation = new LearnerPreparation(options);
    this.loop = new ConnectionLoop({ ...options, tokens: this.tokens, hello: (t) => this.hello(t) });
    this.work = new WorkDriver({
      loop: this.loop,
      options,
      encodings: this.encodings,
      signature: this.signature,
      context: () => {
        const ready = this.preparation.ready;
        return ready && this.welcome ? { welcome: this.welcome, ready } : null;
      },
      ending: () => this.ending,
      emit: (event, payload) => this.emit(event, payload),
      changed: () => this.stateChanged(),
    });
    this.loop.on('changed', () => this.stateChanged());
    this.loop.on('envelope', ({ env, body }) => this.onEnvelope(env, body));
    this.loop.on('rejected', ({ error, replyTo }) => this.work.onRejected(error, replyTo));
    this.loop.on('error', (error) => this.emit('error', error));
    this.loop.on('lost', () => this.onLost());
    this.loop.on('reconnecting', (event) => this.emit('reconnecting', event));
    this.loop.on('failed', (error) => void this.finish(error));
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  // -------------------------------------------------------------- public surface

  get state(): SessionState {
    if (this.lifecycle !== 'open') return this.lifecycle;
    switch (this.loop.state.kind) {
      case 'idle':
      case 'backoff':
        return 'disconnected';
      case 'connecting':
        return 'connecting';
      case 'awaiting-welcome':
        return 'awaiting-welcome';
      case 'connected':
        return this.work.phase === 'idle' ? 'ready' : this.work.phase;
      default:
        return 'closing';
    }
  }

  /** Bytes sent and received over every connection of this session. */
  get traffic(): { bytesUp: number; bytesDown: number } {
    return this.loop.traffic;
  }

  /** The last Welcome, parsed; null before the first. */
  get federation(): SessionWelcome | null {
    return this.welcome;
  }

  /** The round being trained or awaiting its Ack; null when idle. */
  get currentRound(): number | null {
    return this.work.round;
  }

  /** Connects and takes part until stop() or a fatal error. Calling it again does nothing. */
  start(): void {
    this.loop.start();
  }

  /**
   * Leaves the federation: aborts training at the next batch boundary (the model keeps the
   * steps already taken), waits up to stopTimeoutMs for an Ack already due, sends Leave and
   * closes. Resolves when the session is closed.
   */
  async stop(reason = 'participant stopped'): Promise<ClosedEvent> {
    if (this.ending) return this.done;
    this.loop.drain('leave');
    this.stateChanged();
    await this.work.abortTraining();
    await this.work.settleUpload(this.opts.stopTimeoutMs ?? 5_000);
    if (this.loop.welcomedLink) this.loop.transmit({ leave: { reason } });
    await this.finish(undefined, 'leave');
    return this.done;
  }

  // -------------------------------------------------------------- lifecycle

  /** stop() was called, or the session is closing: no new work, no reconnects. */
  private get ending(): boolean {
    return this.lifecycle !== 'open' || this.loop.state.kind === 'draining';
  }

  /** The terminal transition: everything stops, `closed` is emitted once. */
  private async finish(
    error: SessionError | undefined,
    closeReason = error?.code ?? 'closed',
  ): Promise<void> {
    if (this.lifecycle !== 'open') return;
    this.lifecycle = 'closing';
    this.loop.close(closeReason);
    this.stateChanged();
    await this.work.close(error?.message ?? 'the session closed');
    this.preparation.dispose();
    this.lifecycle = 'closed';
    this.stateChanged();
    if (error) this.emit('error', error);
    const event: ClosedEvent = error ? { error } : {};
    this.emit('closed', event);
    this.resolveDone(event);
  }

  private stateChanged(): void {
    const to = this.state;
    const from = this.lastState;
    if (to === from) return;
    this.lastState = to;
    this.emit('state', { from, to });
  }

  // -------------------------------------------------------------- connection

  private hello(token: HelloToken): Body {
    const m = this.opts.model;
    return {
      hello: {
        protocolVersion: 1,
        joinToken: token.kind === 'join' ? token.value : '',
        resumeToken: token.kind === 'resume' ? token.value : '',
        name: this.opts.name ?? '',
        kind: KIND[this.opts.kind ?? 'other'],
        modelArch: m.arch,
        inputShape: [...m.inputShape],
        numClasses: m.numClasses,
        // ENCODING_UINT8_AFFINE says this client also sends and reads 8-bit fedavg weights.
        supportedEncodings: [...this.encodings.map((e) => encodingValue(e)), weightEncodingValue('uint8')],
        supportedCompressions: this.compressions.map((c) => compressionValue(c)),
        clientVersion: this.opts.clientVersion ?? '',
        modelSignature: this.signature,
        // Tasks may name a batch's active rows only: predicting and distilling on whatever
        // predict_indices and Targets.indices say is all it takes (PROTOCOL.md, "Active rows").
        supportsActiveRows: true,
        supportsDelta: this.opts.delta ?? true,
        deltaTargetsVersion: this.opts.delta === false ? 0 : this.work.deltas.targetsVersion,
        // Batches rebuilt from their version by the batch rule (PROTOCOL.md, "Derived indices").
        supportsDerivedIndices: this.opts.derivedIndices ?? true,
      },
    };
  }

  /** While stopping, a lost link means no Ack will come: the upload in hand is let go. */
  private onLost(): void {
    if (this.loop.state.kind === 'draining') this.work.releaseUpload();
  }

  private onEnvelope(env: DecodedEnvelope, body: BodyName): void {
    if (body === 'welcome') {
      if (this.loop.state.kind === 'awaiting-welcome') this.onWelcome(env.welcome!);
      else this.unexpected(body);
      return;
    }
    if (!this.loop.welcomedLink) {
      this.unexpected(body);
      return;
    }
    switch (body) {
      case 'task':
        this.onTask(env.task!);
        return;
      case 'targets':
        this.onTargets(env.targets!);
        return;
      case 'ack':
        this.work.onAck(env.ack!, env.replyTo ?? 0);
        return;
      case 'roundClosed': {
        const rc = env.roundClosed!;
        this.emit('round-closed', {
          round: Number(rc.round ?? 0),
          submissions: rc.submissions ?? 0,
          reason: rc.reason ?? '',
        });
        return;
      }
      default:
        this.unexpected(body);
    }
  }

  private unexpected(body: string): void {
    this.emit(
      'error',
      new SessionError(
        'UNEXPECTED_MESSAGE',
        `the coordinator sent ${body} while the session was ${this.state}`,
      ),
    );
  }

  private onWelcome(w: WelcomeInit): void {
    const parsed = parseWelcome(w, {
      inputShape: this.opts.model.inputShape,
      numClasses: this.opts.model.numClasses,
      encodings: this.encodings,
      compressions: this.compressions,
      delta: this.opts.delta ?? true,
      derivedIndices: this.opts.derivedIndices ?? true,
    });
    if (parsed instanceof SessionError) {
      void this.finish(parsed);
      return;
    }
    const knownSet = this.preparation.ready?.publicSetId ?? null;
    if (knownSet !== null && parsed.publicSet?.sha256 !== knownSet) {
      void this.finish(
        new SessionError(
          'PUBLIC_SET',
          'the coordinator now announces a different public set; restart the client',
          {
            fatal: true,
          },
        ),
      );
      return;
    }
    // The coordinator's numbering restarted (a fresh federation state): forget what refers to the old one.
    if (parsed.currentRound < this.work.lastAckedRound) this.work.restart();
    const reconnected = this.welcome !== null;
    this.welcome = parsed;
    this.tokens.welcomed(w.resumeToken).catch((err: unknown) => {
      this.emit(
        'error',
        new SessionError('STORAGE', `could not store the resume token: ${describe(err)}`, { cause: err }),
      );
    });
    this.loop.established(parsed.heartbeatIntervalMs);
    this.emit('welcome', parsed);
    if (!this.loop.welcomedLink) return;
    if (this.preparation.needed) void this.prepare(parsed);
    this.work.resend();
    if (reconnected) this.work.requestTask();
  }

  /** Once per session (again after a failed fetch); then the messages held meanwhile are handled. */
  private async prepare(welcome: SessionWelcome): Promise<void> {
    try {
      if (!(await this.preparation.prepare(welcome, () => !this.ending))) return;
    } catch (err) {
      if (this.ending) return;
      const error =
        err instanceof SessionError ? err : new SessionError('LEARNER', describe(err), { cause: err });
      // A failed fetch is retried through the reconnect backoff; anything else ends the session.
      if (!error.fatal && this.loop.link) this.loop.drop(error);
      else if (!error.fatal) this.emit('error', error);
      else await this.finish(error);
      return;
    }
    for (const msg of this.preparation.release()) {
      if ('task' in msg) this.onTask(msg.task);
      else this.onTargets(msg.targets);
    }
    this.work.startQueued();
  }

  // -------------------------------------------------------------- messages held until the learner is ready

  private onTargets(msg: TargetsInit): void {
    if (this.preparation.ready) this.work.onTargets(msg);
    else this.preparation.hold({ targets: msg });
  }

  private onTask(msg: TaskInit): void {
    if (this.ending) return;
    if (this.preparation.ready) this.work.onTask(msg);
    else this.preparation.hold({ task: msg });
  }
}
