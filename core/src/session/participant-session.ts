/**
 * The participant side of the Mutua protocol, isomorphic (the Node CLI and the browser Web
 * Worker run the same code over different Transports), written as an explicit state machine.
 *
 * Connection phase                          Work (while connected, `state` shows it)
 *
 *   disconnected --start()--> connecting        ready --Task--> training --result--> uploading
 *   connecting --open--> awaiting-welcome          ^                                     |
 *   awaiting-welcome --Welcome--> ready/...        +---------- Ack / rejected -----------+
 *   any --abnormal close--> disconnected (backoff) --timer--> connecting
 *   any --fatal error | stop()--> closing --> closed
 *
 * `state` is the connection phase, except while connected, where it is the work phase
 * (ready | training | uploading). Work is not tied to a connection: training goes on
 * through a reconnect, and a result whose Ack did not arrive is sent again after the next
 * Welcome (the coordinator answers a repeat with `duplicate: true`, so resending is safe).
 *
 * Rules, in the order a reader will want them:
 *
 * - Tokens. Hello carries the resume token when one is known (options.resumeToken, else
 *   storage), otherwise the join token. Every Welcome's resume token is stored. If a stored
 *   resume token is rejected with BAD_TOKEN and a join token is configured, the session
 *   forgets it and joins once more with the join token (as a new participant): the usual
 *   cause is a coordinator whose database was reset.
 * - Reconnect. Abnormal closes, SHUTTING_DOWN, heartbeat and Welcome timeouts, and every other
 *   retryable error reconnect with exponential backoff and jitter (backoff.ts; never sooner
 *   than the coordinator's retry_after_ms), then resume and send TaskRequest. BAD_TOKEN,
 *   TOKEN_REVOKED, MODEL_MISMATCH, REPLACED, UNSUPPORTED_PROTOCOL and FEDERATION_NOT_FOUND
 *   end the session with that code: retrying cannot succeed.
 * - Public set. Fetched once per session, after the first Welcome, through the injected
 *   fetchPublicSet (which caches and verifies sha256), then decoded and checked against its
 *   descriptor. A fetch failure is retried with the reconnect backoff; an undecodable file
 *   ends the session.
 * - Targets and global weights are kept across tasks: the coordinator sends them only when
 *   they change, and every training run uses the newest ones received.
 * - Newest task wins. A Task for a round at or below the round in hand (training or awaiting
 *   its Ack) or the last acknowledged round is a repeat and is ignored (its targets are
 *   still kept if newer). A newer Task while busy is queued, replacing any queued one, and
 *   - sync: the work in hand is aborted at the learner's next batch boundary (its round has
 *     closed, so the coordinator would reject it as STALE_ROUND);
 *   - async: the work in hand is finished and uploaded first (a stale contribution still
 *     counts, down-weighted), then the queued task starts.
 * - Upload rejections: STALE_ROUND / TOO_STALE and the shape/payload errors drop the result
 *   and wait for the next Task; UNKNOWN_ROUND drops it and sends TaskRequest; RATE_LIMITED
 *   and INTERNAL resend it after a delay, up to 4 tries.
 * - Invalid messages from the coordinator (a Task failing validateTask, a bad frame) are
 *   reported as non-fatal `error` events and ignored; a frame that cannot be decoded at all
 *   drops the connection (the byte stream cannot be trusted) and reconnects.
 * - stop(): aborts training at the next batch boundary, waits briefly for an Ack already
 *   due, sends Leave, closes. Resolves when the session is closed.
 */
import {
  decodeFrame,
  decodePublicSet,
  type EnvelopeInit,
  ERROR_POLICY,
  type ErrorCodeName,
  type ErrorMessageInit,
  encodeEnvelope,
  encodePredictions,
  encodeWeights,
  encodingValue,
  type LocalMetricsInit,
  type ModeName,
  modeName,
  PREDICTION_ENCODINGS,
  type PredictionEncoding,
  type ProtocolError,
  type PublicSet,
  protocolErrorFromBody,
  type TargetsInit,
  type TaskInit,
  type ValidTargets,
  validateMetrics,
  validateTargets,
  validateTask,
  type WeightsExpectation,
  weightEncodingValue,
} from '@mutua/proto';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { TypedEmitter } from './emitter.ts';
import { fnv1a64 } from './hash.ts';
import type { Learner, LearnerFactory, LearnerMetrics, LearnerTargets, TrainProgress } from './learner.ts';
import { SessionError } from './session-error.ts';
import type { Connection, Transport } from './transport.ts';
import { type PublicSetInfo, parseWelcome, type SessionWelcome } from './welcome.ts';

// ---------------------------------------------------------------- public types

export type SessionState =
  | 'disconnected'
  | 'connecting'
  | 'awaiting-welcome'
  | 'ready'
  | 'training'
  | 'uploading'
  | 'closing'
  | 'closed';

/** Where resume tokens are kept between runs (a file, localStorage, IndexedDB). */
export interface TokenStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/**
 * Fetches the public-set file. `url` is absolute (resolved against the session URL, ws -> http),
 * `sha256` the lowercase hex digest the bytes must have: implementations cache by it and
 * verify it, rejecting on a mismatch.
 */
export type FetchPublicSet = (url: string, sha256: string, info: PublicSetInfo) => Promise<Uint8Array>;

/** What Hello says about the participant's model. */
export interface ModelDescriptor {
  arch: string;
  inputShape: readonly number[];
  numClasses: number;
  /** fedavg: hash of the parameter shapes (tf-learner.ts `modelSignature`). */
  signature?: string;
}

export interface ReconnectOptions extends Partial<BackoffOptions> {
  /** Reconnect attempts in a row before the session gives up; default Infinity. */
  maxAttempts?: number;
}

export interface ParticipantSessionOptions {
  /** The coordinator's WebSocket endpoint, e.g. wss://host/v1/ws. */
  url: string;
  transport: Transport;
  joinToken?: string;
  /** Resume as this participant (takes precedence over a stored token). */
  resumeToken?: string;
  /** Keeps resume tokens across runs; default: in memory only. */
  storage?: TokenStorage;
  /** Storage key; default derived from url and join token (a hash, never the raw token). */
  storageKey?: string;
  name?: string;
  kind?: 'node' | 'browser' | 'other';
  clientVersion?: string;
  model: ModelDescriptor;
  /** The learner, or a factory called once the federation settings and public set are known. */
  learner: Learner | LearnerFactory;
  /** Required by federations with a public set (mutual distillation). */
  fetchPublicSet?: FetchPublicSet;
  /** Prediction encodings this client offers; default all four. */
  encodings?: readonly PredictionEncoding[];
  /** Local epochs per task; default the Task's, else the federation's, else 1. */
  localEpochs?: number;
  reconnect?: ReconnectOptions;
  /** Close and reconnect when no Welcome arrives within this time; default 30 s. */
  welcomeTimeoutMs?: number;
  /** How long stop() waits for an Ack already due; default 5 s. */
  stopTimeoutMs?: number;
  /**
   * Send Heartbeat messages every Welcome.heartbeat_interval_ms and reconnect after three
   * silent intervals; default true. (Browsers cannot see WebSocket pings, so this is how a
   * half-open connection is noticed.)
   */
  heartbeat?: boolean;
  /** Largest frame accepted from the coordinator; default 256 MiB. */
  maxIncomingFrameBytes?: number;
  /** Random source for the backoff jitter (tests pass a constant). */
  random?: () => number;
}

export interface StateEvent {
  from: SessionState;
  to: SessionState;
}

export interface TaskEvent {
  round: number;
  mode: ModeName;
  /** Public samples to predict (0 for fedavg). */
  predictCount: number;
  /** Version of the targets this training distills toward; null without a consensus. */
  targetsVersion: number | null;
  localEpochs: number;
  /** Sync rounds: when the round closes (0 = no deadline). */
  deadlineUnixMs: number;
}

export interface ProgressEvent extends TrainProgress {
  round: number;
}

export interface AckInfo {
  round: number;
  duplicate: boolean;
  staleness: number;
  weight: number;
}

export interface UploadedEvent {
  round: number;
  ack: AckInfo;
  /** Size of the upload frame. */
  frameBytes: number;
  /** Totals over the session (every frame, all connections). */
  bytesUp: number;
  bytesDown: number;
  metrics: LearnerMetrics & { trainMs: number };
}

export interface RoundClosedEvent {
  round: number;
  submissions: number;
  reason: string;
}

export interface ReconnectingEvent {
  /** 1-based attempt since the last Welcome. */
  attempt: number;
  delayMs: number;
  /** Why the previous connection ended or failed. */
  error: SessionError;
}

export interface ClosedEvent {
  /** The fatal error that ended the session; absent after stop(). */
  error?: SessionError;
}

export interface SessionEvents {
  state: StateEvent;
  welcome: SessionWelcome;
  task: TaskEvent;
  progress: ProgressEvent;
  uploaded: UploadedEvent;
  error: SessionError;
  'round-closed': RoundClosedEvent;
  reconnecting: ReconnectingEvent;
  closed: ClosedEvent;
}

// ---------------------------------------------------------------- helpers

/** These end the session: reconnecting cannot succeed. */
const NO_RETRY: ReadonlySet<string> = new Set<ErrorCodeName | 'NO_TOKEN'>([
  'BAD_TOKEN',
  'TOKEN_REVOKED',
  'MODEL_MISMATCH',
  'REPLACED',
  'UNSUPPORTED_PROTOCOL',
  'FEDERATION_NOT_FOUND',
  'NO_TOKEN',
]);

/** Close code -> error code, for closes that arrive without an Error body (unambiguous codes only). */
const CLOSE_CODE_NAMES: ReadonlyMap<number, ErrorCodeName> = (() => {
  const byCode = new Map<number, ErrorCodeName[]>();
  for (const [name, policy] of Object.entries(ERROR_POLICY) as [ErrorCodeName, { closeCode: number }][]) {
    byCode.set(policy.closeCode, [...(byCode.get(policy.closeCode) ?? []), name]);
  }
  const out = new Map<number, ErrorCodeName>();
  for (const [code, names] of byCode) if (names.length === 1) out.set(code, names[0]!);
  return out;
})();

const MAX_UPLOAD_TRIES = 4;
const MAX_EARLY_MESSAGES = 64;
const KIND = { node: 1, browser: 2, other: 3 } as const;

type Body = Omit<EnvelopeInit, 'seq' | 'replyTo'>;
type Phase = 'disconnected' | 'connecting' | 'awaiting-welcome' | 'connected' | 'closing' | 'closed';

interface TaskInHand {
  round: number;
  mode: ModeName;
  predictIndices: Uint32Array;
  localEpochs: number;
  deadlineUnixMs: number;
}

interface PendingUpload {
  body: Body;
  metrics: LearnerMetrics & { trainMs: number };
  /** The connection it was last sent on and its seq there; null/0 = to be sent. */
  conn: Connection | null;
  seq: number;
  frameBytes: number;
  tries: number;
  retryTimer: ReturnType<typeof setTimeout> | null;
}

interface Work {
  task: TaskInHand;
  phase: 'training' | 'uploading';
  controller: AbortController;
  upload: PendingUpload | null;
  /** Settles when training (and encoding) ended, however it ended. Never rejects. */
  running: Promise<void>;
  /** Resolves when the work leaves the session (acknowledged, dropped or aborted). */
  finished: Promise<void>;
  resolveFinished: () => void;
}

/** The public-set URL a Welcome gives, made absolute against the session URL (ws -> http, wss -> https). */
export function resolvePublicSetUrl(sessionUrl: string, path: string): string {
  const url = new URL(path, sessionUrl);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  return url.toString();
}

/** The default storage key: one resume token per coordinator URL and join token. */
export function defaultStorageKey(url: string, joinToken: string | undefined): string {
  return `mutua.resume.${fnv1a64(`${url}\n${joinToken ?? ''}`)}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function memoryStorage(): TokenStorage {
  const map = new Map<string, string>();
  return { get: (k) => map.get(k), set: (k, v) => void map.set(k, v) };
}

// ---------------------------------------------------------------- the session

export class ParticipantSession extends TypedEmitter<SessionEvents> {
  /** Resolves when the session has closed (after stop() or a fatal error). Never rejects. */
  readonly done: Promise<ClosedEvent>;

  private readonly opts: ParticipantSessionOptions;
  private readonly storage: TokenStorage;
  private readonly storageKey: string;
  private readonly encodings: readonly PredictionEncoding[];
  private resolveDone!: (e: ClosedEvent) => void;

  private phase: Phase = 'disconnected';
  private lastState: SessionState = 'disconnected';
  private started = false;
  private stopRequested = false;
  private finishing = false;
  /** Bumped whenever a connect in flight must be abandoned. */
  private generation = 0;

  private conn: Connection | null = null;
  private seq = 0;
  private helloToken: 'join' | 'resume' = 'join';
  private resumeToken: string | null;
  private ignoreStoredToken = false;
  private joinFallbackTried = false;
  private attempt = 0;
  private welcomes = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private welcomeTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private lastReceivedAt = 0;

  private welcome: SessionWelcome | null = null;
  private preparing: Promise<void> | null = null;
  private learner: Learner | null = null;
  private learnerOwned = false;
  private publicSetId: string | null = null;
  private publicSetSize: number | undefined;
  private weightCount = 0;
  private readonly early: Array<{ task?: TaskInit; targets?: TargetsInit }> = [];

  private targets: LearnerTargets | null = null;
  /** fedavg: global weights received and not yet loaded into the learner. */
  private globalWeights: { round: number; values: Float32Array } | null = null;
  private work: Work | null = null;
  private queued: TaskInHand | null = null;
  private lastAckedRound = 0;

  private up = 0;
  private down = 0;

  constructor(options: ParticipantSessionOptions) {
    super();
    if (!options.joinToken && !options.resumeToken && !options.storage) {
      throw new TypeError(
        'ParticipantSession: a joinToken, a resumeToken or a storage holding one is required',
      );
    }
    this.opts = options;
    this.storage = options.storage ?? memoryStorage();
    this.storageKey = options.storageKey ?? defaultStorageKey(options.url, options.joinToken);
    // float32 is the one encoding every implementation must support (PROTOCOL.md).
    const offered = options.encodings?.length ? [...options.encodings] : [...PREDICTION_ENCODINGS];
    if (!offered.includes('float32')) offered.push('float32');
    this.encodings = offered;
    this.resumeToken = options.resumeToken || null;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  // -------------------------------------------------------------- public surface

  get state(): SessionState {
    return this.computeState();
  }

  /** Bytes sent and received over every connection of this session. */
  get traffic(): { bytesUp: number; bytesDown: number } {
    return { bytesUp: this.up, bytesDown: this.down };
  }

  /** The last Welcome, parsed; null before the first. */
  get federation(): SessionWelcome | null {
    return this.welcome;
  }

  /** The round being trained or awaiting its Ack; null when idle. */
  get currentRound(): number | null {
    return this.work?.task.round ?? null;
  }

  /** Connects and takes part until stop() or a fatal error. Calling it again does nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.connect();
  }

  /**
   * Leaves the federation: aborts training at the next batch boundary (the model keeps the
   * steps already taken), waits up to stopTimeoutMs for an Ack already due, sends Leave and
   * closes. Resolves when the session is closed.
   */
  async stop(reason = 'participant stopped'): Promise<ClosedEvent> {
    if (this.stopRequested || this.phase === 'closed' || this.finishing) return this.done;
    this.stopRequested = true;
    this.generation++;
    this.clearReconnectTimer();
    this.stateChanged();
    const work = this.work;
    if (work?.phase === 'training') {
      work.controller.abort(new DOMException('the session is stopping', 'AbortError'));
      await work.running;
    }
    const pending = this.work;
    if (pending?.phase === 'uploading' && pending.upload?.conn && pending.upload.conn === this.conn) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        pending.finished,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.opts.stopTimeoutMs ?? 5_000);
        }),
      ]);
      clearTimeout(timer);
    }
    if (this.conn && this.phase === 'connected') this.transmit({ leave: { reason } });
    await this.finish(undefined, 'leave');
    return this.done;
  }

  // -------------------------------------------------------------- connection phase

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    this.setPhase('connecting');
    let token: { kind: 'join' | 'resume'; value: string };
    try {
      token = await this.pickToken();
    } catch (err) {
      if (generation === this.generation) await this.finish(this.asSessionError(err, 'STORAGE', true));
      return;
    }
    let conn: Connection;
    try {
      conn = await this.opts.transport.connect(this.opts.url);
    } catch (err) {
      if (generation !== this.generation) return;
      this.retry(
        new SessionError('UNREACHABLE', `cannot reach ${this.opts.url}: ${describe(err)}`, { cause: err }),
      );
      return;
    }
    if (generation !== this.generation) {
      conn.close(1000, 'stopped');
      return;
    }
    this.conn = conn;
    this.seq = 0;
    this.helloToken = token.kind;
    conn.onMessage((bytes) => this.onFrame(conn, bytes));
    conn.onClose((code, reason) => this.onClose(conn, code, reason));
    this.setPhase('awaiting-welcome');
    const m = this.opts.model;
    this.transmit({
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
        clientVersion: this.opts.clientVersion ?? '',
        modelSignature: this.signature(),
      },
    });
    this.welcomeTimer = setTimeout(() => {
      this.welcomeTimer = null;
      this.dropConnection(
        new SessionError('WELCOME_TIMEOUT', 'the coordinator did not answer Hello in time'),
      );
    }, this.opts.welcomeTimeoutMs ?? 30_000);
  }

  private async pickToken(): Promise<{ kind: 'join' | 'resume'; value: string }> {
    if (this.resumeToken) return { kind: 'resume', value: this.resumeToken };
    if (!this.ignoreStoredToken) {
      const stored = await this.storage.get(this.storageKey);
      if (stored) return { kind: 'resume', value: stored };
    }
    if (this.opts.joinToken) return { kind: 'join', value: this.opts.joinToken };
    throw new SessionError('NO_TOKEN', 'no resume token is stored and no join token was given', {
      fatal: true,
    });
  }

  private onClose(conn: Connection, code: number, reason: string): void {
    if (conn !== this.conn) return;
    this.detach();
    this.lost(this.errorFromClose(code, reason));
  }

  /** Closes the live connection from this side and handles it as lost, without waiting for the close handshake. */
  private dropConnection(error: SessionError): void {
    const conn = this.conn;
    if (!conn) return;
    this.detach();
    conn.close(1000, error.code);
    this.lost(error);
  }

  private detach(): void {
    this.conn = null;
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    this.welcomeTimer = null;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const work = this.work;
    if (work?.upload) {
      if (this.stopRequested) this.finishWork(work);
      else work.upload.conn = null;
    }
  }

  private errorFromClose(code: number, reason: string): SessionError {
    const name = reason in ERROR_POLICY ? (reason as ErrorCodeName) : CLOSE_CODE_NAMES.get(code);
    const text = `the connection closed (${code}${reason ? ` ${reason}` : ''})`;
    return new SessionError(name ?? 'CONNECTION_LOST', text, { closeCode: code });
  }

  private lost(error: SessionError): void {
    if (this.stopRequested || this.finishing || this.phase === 'closed') return;
    if (NO_RETRY.has(error.code)) {
      if (
        error.code === 'BAD_TOKEN' &&
        this.helloToken === 'resume' &&
        this.opts.joinToken &&
        !this.joinFallbackTried
      ) {
        this.joinFallbackTried = true;
        this.resumeToken = null;
        this.ignoreStoredToken = true;
        this.emit(
          'error',
          new SessionError(
            'BAD_TOKEN',
            `the resume token was rejected (${error.message}); joining again with the join token`,
            {
              cause: error,
            },
          ),
        );
        void this.connect();
        return;
      }
      void this.finish(error.fatal ? error : error.asFatal());
      return;
    }
    this.retry(error);
  }

  private retry(error: SessionError): void {
    this.attempt++;
    const max = this.opts.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY;
    if (this.attempt > max) {
      void this.finish(error.asFatal(`${error.message} (gave up after ${max} reconnect attempts)`));
      return;
    }
    const delayMs = Math.max(
      backoffDelay(this.attempt, this.opts.reconnect, this.opts.random),
      error.retryAfterMs,
    );
    this.setPhase('disconnected');
    this.emit('reconnecting', { attempt: this.attempt, delayMs, error });
    if (this.stopRequested || this.finishing) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delayMs);
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  /** The terminal transition: everything stops, `closed` is emitted once. */
  private async finish(
    error: SessionError | undefined,
    closeReason = error?.code ?? 'closed',
  ): Promise<void> {
    if (this.finishing || this.phase === 'closed') return;
    this.finishing = true;
    this.generation++;
    this.clearReconnectTimer();
    const conn = this.conn;
    this.detach();
    conn?.close(1000, closeReason);
    this.setPhase('closing');
    const work = this.work;
    if (work) {
      work.controller.abort(new DOMException(error?.message ?? 'the session closed', 'AbortError'));
      await work.running;
      this.finishWork(work);
    }
    this.queued = null;
    if (this.learnerOwned) this.learner?.dispose?.();
    this.setPhase('closed');
    if (error) this.emit('error', error);
    this.emit('closed', error ? { error } : {});
    this.resolveDone(error ? { error } : {});
  }

  // -------------------------------------------------------------- frames

  /** Encodes and sends one envelope on the live connection; returns its seq and size, or null. */
  private transmit(body: Body, replyTo = 0, maxBytes = 0): { seq: number; bytes: number } | null {
    const conn = this.conn;
    if (!conn) return null;
    const seq = ++this.seq;
    const frame = encodeEnvelope({ ...body, seq, replyTo });
    if (maxBytes > 0 && frame.byteLength > maxBytes) return { seq: 0, bytes: frame.byteLength };
    this.up += frame.byteLength;
    conn.send(frame);
    return { seq, bytes: frame.byteLength };
  }

  private onFrame(conn: Connection, bytes: Uint8Array): void {
    if (conn !== this.conn) return;
    this.down += bytes.byteLength;
    this.lastReceivedAt = Date.now();
    const decoded = decodeFrame(bytes, { maxFrameBytes: this.opts.maxIncomingFrameBytes ?? 256 * 2 ** 20 });
    if (!decoded.ok) {
      const error = SessionError.fromProtocol(decoded.error);
      if (decoded.error.fatal) this.dropConnection(error);
      else this.emit('error', error);
      return;
    }
    const env = decoded.envelope;
    switch (decoded.body) {
      case 'welcome':
        if (this.phase === 'awaiting-welcome') this.onWelcome(env.welcome!);
        else this.unexpected('welcome');
        return;
      case 'error':
        this.onErrorBody(env.error!, env.replyTo ?? 0);
        return;
      case 'heartbeat':
        if (!env.heartbeat?.reply)
          this.transmit({ heartbeat: { unixMs: Date.now(), reply: true } }, env.seq ?? 0);
        return;
      default:
        break;
    }
    if (this.phase !== 'connected') {
      this.unexpected(decoded.body);
      return;
    }
    switch (decoded.body) {
      case 'task':
        this.onTask(env.task!);
        return;
      case 'targets':
        this.onTargets(env.targets!);
        return;
      case 'ack':
        this.onAck(env.ack!, env.replyTo ?? 0);
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
        this.unexpected(decoded.body);
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

  private onErrorBody(body: ErrorMessageInit, replyTo: number): void {
    const pe = protocolErrorFromBody(body);
    if (pe.fatal) {
      // The coordinator closes after a fatal error; decide now rather than wait for its close frame.
      this.dropConnection(SessionError.fromProtocol(pe));
      return;
    }
    const work = this.work;
    const up = work?.upload;
    if (work && up && replyTo !== 0 && up.conn === this.conn && up.seq === replyTo) {
      this.onUploadRejected(work, pe);
      return;
    }
    this.emit('error', SessionError.fromProtocol(pe));
  }

  // -------------------------------------------------------------- welcome and preparation

  private onWelcome(w: NonNullable<EnvelopeInit['welcome']>): void {
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    this.welcomeTimer = null;
    const parsed = parseWelcome(w, {
      inputShape: this.opts.model.inputShape,
      numClasses: this.opts.model.numClasses,
      encodings: this.encodings,
    });
    if (parsed instanceof SessionError) {
      void this.finish(parsed);
      return;
    }
    if (this.publicSetId !== null && parsed.publicSet?.sha256 !== this.publicSetId) {
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
    if (parsed.currentRound < this.lastAckedRound) {
      // The coordinator's numbering restarted (a fresh federation state): forget what refers to the old one.
      this.lastAckedRound = 0;
      this.targets = null;
      this.globalWeights = null;
    }
    const reconnected = this.welcomes > 0;
    this.welcomes++;
    this.welcome = parsed;
    this.attempt = 0;
    this.joinFallbackTried = false;
    this.ignoreStoredToken = false;
    if (w.resumeToken) {
      this.resumeToken = w.resumeToken;
      void this.saveToken(w.resumeToken);
    }
    this.setPhase('connected');
    this.startHeartbeat(parsed.heartbeatIntervalMs);
    this.emit('welcome', parsed);
    if (this.phase !== 'connected') return;
    if (!this.learner && !this.preparing) this.preparing = this.prepare(parsed);
    if (this.work?.upload) this.sendUpload(this.work);
    if (reconnected) this.transmit({ taskRequest: { lastRound: this.lastAckedRound } });
  }

  private async saveToken(token: string): Promise<void> {
    try {
      await this.storage.set(this.storageKey, token);
    } catch (err) {
      this.emit(
        'error',
        new SessionError('STORAGE', `could not store the resume token: ${describe(err)}`, { cause: err }),
      );
    }
  }

  private startHeartbeat(intervalMs: number): void {
    if (!(intervalMs > 0) || this.opts.heartbeat === false) return;
    let lastTick = Date.now();
    this.lastReceivedAt = lastTick;
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      // A tick far behind schedule means this thread was blocked: the silence is ours, not the peer's.
      if (now - lastTick > 2 * intervalMs) this.lastReceivedAt = now;
      lastTick = now;
      if (now - this.lastReceivedAt > 3 * intervalMs) {
        this.dropConnection(
          new SessionError(
            'HEARTBEAT_LOST',
            `nothing received from the coordinator for ${now - this.lastReceivedAt} ms`,
          ),
        );
        return;
      }
      this.transmit({ heartbeat: { unixMs: now, reply: false } });
    }, intervalMs);
  }

  /** Fetches and decodes the public set, then builds the learner; once per session. */
  private async prepare(welcome: SessionWelcome): Promise<void> {
    let publicSet: PublicSet | undefined;
    const info = welcome.publicSet;
    try {
      if (info) {
        if (!this.opts.fetchPublicSet) {
          throw new SessionError(
            'PUBLIC_SET',
            'this federation uses a public set, but no fetchPublicSet was given',
            {
              fatal: true,
            },
          );
        }
        let bytes: Uint8Array;
        try {
          bytes = await this.opts.fetchPublicSet(
            resolvePublicSetUrl(this.opts.url, info.url),
            info.sha256,
            info,
          );
        } catch (err) {
          if (this.finishing || this.stopRequested) return;
          this.preparing = null;
          // Probably transient (network, a cache being written): retry through the reconnect backoff.
          const error = new SessionError('PUBLIC_SET', `could not fetch the public set: ${describe(err)}`, {
            cause: err,
          });
          if (this.conn) this.dropConnection(error);
          else this.emit('error', error);
          return;
        }
        publicSet = this.checkPublicSet(decodePublicSet(bytes), info);
        this.publicSetId = info.sha256;
        this.publicSetSize = publicSet.sampleCount;
      }
      const given = this.opts.learner;
      const learner =
        typeof given === 'function' ? await given({ federation: welcome.federation, publicSet }) : given;
      this.learnerOwned = typeof given === 'function';
      if (welcome.federation.strategy === 'fedavg') {
        if (!learner.getWeights || !learner.setWeights) {
          throw new SessionError(
            'LEARNER',
            'a fedavg federation needs a learner with getWeights and setWeights',
            {
              fatal: true,
            },
          );
        }
        this.weightCount = (await learner.getWeights()).length;
      }
      if (this.finishing || this.stopRequested) {
        if (this.learnerOwned) learner.dispose?.();
        return;
      }
      this.learner = learner;
    } catch (err) {
      if (this.finishing || this.stopRequested) return;
      const code = this.learner === null && publicSet === undefined && info ? 'PUBLIC_SET' : 'LEARNER';
      await this.finish(this.asSessionError(err, code, true));
      return;
    }
    for (const msg of this.early.splice(0)) {
      if (msg.task) this.onTask(msg.task);
      if (msg.targets) this.onTargets(msg.targets);
    }
    if (!this.work && this.queued) {
      const next = this.queued;
      this.queued = null;
      this.startTask(next);
    }
  }

  private checkPublicSet(set: PublicSet, info: PublicSetInfo): PublicSet {
    const problems: string[] = [];
    if (info.sampleCount > 0 && set.sampleCount !== info.sampleCount) {
      problems.push(`${set.sampleCount} samples, the descriptor says ${info.sampleCount}`);
    }
    if (info.shape.length > 0 && set.shape.join('x') !== info.shape.join('x')) {
      problems.push(`samples [${set.shape}], the descriptor says [${info.shape}]`);
    }
    if (set.shape.join('x') !== this.opts.model.inputShape.join('x')) {
      problems.push(`samples [${set.shape}], the model takes [${this.opts.model.inputShape}]`);
    }
    if (problems.length > 0) {
      throw new SessionError('PUBLIC_SET', `the public set does not match: ${problems.join('; ')}`, {
        fatal: true,
      });
    }
    return set;
  }

  private asSessionError(err: unknown, code: SessionError['code'], fatal: boolean): SessionError {
    if (err instanceof SessionError) return fatal && !err.fatal ? err.asFatal() : err;
    return new SessionError(code, describe(err), { fatal, cause: err });
  }

  private signature(): string {
    const given = this.opts.learner;
    return (
      this.opts.model.signature ?? (typeof given === 'function' ? undefined : given.modelSignature) ?? ''
    );
  }

  // -------------------------------------------------------------- tasks

  private onTargets(msg: TargetsInit): void {
    if (!this.learner) {
      this.keepEarly({ targets: msg });
      return;
    }
    const v = validateTargets(msg, {
      classes: this.welcome!.federation.numClasses,
      sampleCount: this.publicSetSize,
      allowedEncodings: this.encodings,
    });
    if (!v.ok) {
      this.emit('error', SessionError.fromProtocol(v.error, { round: Number(msg.version ?? 0) }));
      return;
    }
    this.keepTargets(v.value);
  }

  private onTask(msg: TaskInit): void {
    if (this.stopRequested) return;
    if (!this.learner) {
      this.keepEarly({ task: msg });
      return;
    }
    const fed = this.welcome!.federation;
    const gw = msg.globalWeights;
    let weights: WeightsExpectation | undefined;
    if (fed.strategy === 'fedavg') {
      // A coordinator that leaves GlobalWeights.model_signature empty has not stated one: the count is still checked.
      weights = { count: this.weightCount, signature: gw && !gw.modelSignature ? '' : this.signature() };
    }
    const v = validateTask(msg, {
      classes: fed.numClasses,
      sampleCount: this.publicSetSize,
      allowedEncodings: this.encodings,
      weights,
    });
    if (!v.ok) {
      this.emit('error', SessionError.fromProtocol(v.error, { round: Number(msg.round ?? 0) }));
      return;
    }
    if (v.value.targets) this.keepTargets(v.value.targets);
    if (v.value.globalWeights) {
      const round = Number(gw?.round ?? 0);
      // Weights not yet loaded are replaced only by newer ones.
      if (!this.globalWeights || round >= this.globalWeights.round) {
        this.globalWeights = { round, values: v.value.globalWeights };
      }
    }
    this.offer({
      round: Number(v.value.round),
      mode: modeName(msg.mode) ?? fed.mode,
      predictIndices: Uint32Array.from(v.value.predictIndices),
      localEpochs: this.opts.localEpochs ?? (msg.localEpochs || fed.localEpochs || 1),
      deadlineUnixMs: Number(msg.deadlineUnixMs ?? 0),
    });
  }

  private keepEarly(msg: { task?: TaskInit; targets?: TargetsInit }): void {
    this.early.push(msg);
    if (this.early.length > MAX_EARLY_MESSAGES) this.early.shift();
  }

  private keepTargets(t: ValidTargets): void {
    // Number(): an absent uint64 decodes to protobufjs's prototype default, a Long, not a number.
    const version = Number(t.version);
    if (this.targets && version < this.targets.version) return;
    this.targets = {
      version,
      indices: Uint32Array.from(t.indices),
      probs: t.probs,
      contributors: t.contributors,
    };
  }

  /** The newest-task rule (module comment). */
  private offer(task: TaskInHand): void {
    if (this.stopRequested || this.finishing) return;
    if (task.round <= this.lastAckedRound) return;
    const work = this.work;
    if (this.queued && task.round <= this.queued.round) return;
    if (work) {
      if (task.round <= work.task.round) return;
      this.queued = task;
      if (work.phase === 'training' && work.task.mode === 'sync') {
        work.controller.abort(
          new DOMException(`round ${work.task.round} was superseded by round ${task.round}`, 'AbortError'),
        );
      }
      return;
    }
    this.startTask(task);
  }

  private startTask(task: TaskInHand): void {
    let resolveFinished!: () => void;
    const finished = new Promise<void>((resolve) => {
      resolveFinished = resolve;
    });
    const work: Work = {
      task,
      phase: 'training',
      controller: new AbortController(),
      upload: null,
      running: Promise.resolve(),
      finished,
      resolveFinished,
    };
    this.work = work;
    this.stateChanged();
    this.emit('task', {
      round: task.round,
      mode: task.mode,
      predictCount: task.predictIndices.length,
      targetsVersion: this.targets?.version ?? null,
      localEpochs: task.localEpochs,
      deadlineUnixMs: task.deadlineUnixMs,
    });
    work.running = this.run(work);
  }

  /** Trains, predicts (or reads weights), encodes, then hands over to the upload. Never rejects. */
  private async run(work: Work): Promise<void> {
    const learner = this.learner!;
    const welcome = this.welcome!;
    const fed = welcome.federation;
    const { signal } = work.controller;
    const { task } = work;
    try {
      // "Load global_weights if present" (PROTOCOL.md): each received set is loaded once;
      // without new ones the learner goes on from its own weights.
      const gw = this.globalWeights;
      if (fed.strategy === 'fedavg' && gw) {
        await learner.setWeights!(gw.values, { round: gw.round });
        if (this.globalWeights === gw) this.globalWeights = null;
      }
      signal.throwIfAborted();
      const started = Date.now();
      const metrics = await learner.train({
        round: task.round,
        targets: fed.strategy === 'mutual' ? (this.targets ?? undefined) : undefined,
        temperature: fed.temperature,
        lambda: fed.lambda,
        localEpochs: task.localEpochs,
        signal,
        onProgress: (p) => {
          if (this.work === work && !signal.aborted) this.emit('progress', { round: task.round, ...p });
        },
      });
      signal.throwIfAborted();
      const withTime = { ...metrics, trainMs: Date.now() - started };
      const localMetrics = toLocalMetrics(withTime);
      const badMetrics = validateMetrics(localMetrics);
      if (badMetrics) throw badMetrics;
      let body: Body;
      if (fed.strategy === 'fedavg') {
        const values = await learner.getWeights!();
        const encoding = welcome.weightEncoding;
        body = {
          weights: {
            round: task.round,
            encoding: weightEncodingValue(encoding),
            count: values.length,
            payload: encodeWeights(values, encoding, { segments: learner.weightSegments }),
            numSamples: learner.numSamples ?? metrics.samples,
            modelSignature: this.signature(),
            metrics: localMetrics,
          },
        };
      } else {
        const n = task.predictIndices.length;
        const C = fed.numClasses;
        const probs = await learner.predict(task.predictIndices, fed.temperature);
        if (probs.length !== n * C) {
          throw new RangeError(`predict returned ${probs.length} values for ${n} samples x ${C} classes`);
        }
        const encoding = welcome.uploadEncoding;
        const k = encoding === 'topk' ? Math.min(C, Math.max(1, fed.topk || C)) : 0;
        body = {
          predictions: {
            round: task.round,
            encoding: encodingValue(encoding),
            rows: n,
            classes: C,
            k,
            payload: encodePredictions(probs, n, C, encoding, encoding === 'topk' ? { k } : {}),
            metrics: localMetrics,
          },
        };
      }
      signal.throwIfAborted();
      if (this.work !== work) return;
      work.phase = 'uploading';
      work.upload = {
        body,
        metrics: withTime,
        conn: null,
        seq: 0,
        frameBytes: 0,
        tries: 0,
        retryTimer: null,
      };
      this.stateChanged();
      this.sendUpload(work);
    } catch (err) {
      if (this.work !== work) return;
      if (!signal.aborted) {
        this.emit(
          'error',
          new SessionError('LEARNER', `round ${task.round}: ${describe(err)}`, {
            round: task.round,
            cause: err,
          }),
        );
      }
      this.finishWork(work);
    }
  }

  /** Sends the pending upload if connected and not yet sent on this connection; otherwise the next Welcome does. */
  private sendUpload(work: Work): void {
    const up = work.upload;
    if (!up || this.work !== work || this.phase !== 'connected' || !this.conn) return;
    if (up.conn === this.conn || up.retryTimer) return;
    const sent = this.transmit(up.body, 0, this.welcome?.maxFrameBytes ?? 0);
    if (!sent) return;
    if (sent.seq === 0) {
      this.emit(
        'error',
        new SessionError(
          'FRAME_TOO_LARGE',
          `round ${work.task.round}: the upload is ${sent.bytes} bytes, above the coordinator's limit of ${this.welcome?.maxFrameBytes}; use a smaller encoding`,
          { round: work.task.round },
        ),
      );
      this.finishWork(work);
      return;
    }
    up.conn = this.conn;
    up.seq = sent.seq;
    up.frameBytes = sent.bytes;
    up.tries++;
  }

  private onAck(ack: NonNullable<EnvelopeInit['ack']>, replyTo: number): void {
    const work = this.work;
    const up = work?.upload;
    // An Ack for nothing in hand (a repeat, or for an upload already settled) changes nothing.
    if (!work || !up || up.conn !== this.conn || up.seq !== replyTo) return;
    this.lastAckedRound = Math.max(this.lastAckedRound, work.task.round);
    this.emit('uploaded', {
      round: work.task.round,
      ack: {
        round: Number(ack.round ?? work.task.round),
        duplicate: ack.duplicate ?? false,
        staleness: ack.staleness ?? 0,
        weight: ack.weight ?? 0,
      },
      frameBytes: up.frameBytes,
      bytesUp: this.up,
      bytesDown: this.down,
      metrics: up.metrics,
    });
    this.finishWork(work);
  }

  private onUploadRejected(work: Work, pe: ProtocolError): void {
    const up = work.upload!;
    const round = work.task.round;
    const error = SessionError.fromProtocol(pe, { round });
    this.emit('error', error);
    switch (pe.code) {
      case 'RATE_LIMITED':
      case 'INTERNAL':
      case 'ERROR_CODE_UNSPECIFIED':
        if (up.tries < MAX_UPLOAD_TRIES) {
          up.conn = null;
          const delay = Math.max(
            pe.retryAfterMs,
            backoffDelay(up.tries, this.opts.reconnect, this.opts.random),
          );
          up.retryTimer = setTimeout(() => {
            up.retryTimer = null;
            this.sendUpload(work);
          }, delay);
          return;
        }
        break;
      case 'UNKNOWN_ROUND':
        this.finishWork(work);
        this.transmit({ taskRequest: { lastRound: this.lastAckedRound } });
        return;
      default:
        break;
    }
    this.finishWork(work);
  }

  /** Removes the work in hand and starts the queued task, if any. */
  private finishWork(work: Work): void {
    if (this.work !== work) return;
    if (work.upload?.retryTimer) clearTimeout(work.upload.retryTimer);
    this.work = null;
    work.resolveFinished();
    const next = this.queued;
    if (next && !this.stopRequested && !this.finishing && this.learner) {
      this.queued = null;
      if (next.round > this.lastAckedRound) {
        this.startTask(next);
        return;
      }
    }
    this.stateChanged();
  }

  // -------------------------------------------------------------- state

  private computeState(): SessionState {
    if (this.phase !== 'connected') return this.phase;
    if (this.stopRequested) return 'closing';
    return this.work ? this.work.phase : 'ready';
  }

  private setPhase(phase: Phase): void {
    this.phase = phase;
    this.stateChanged();
  }

  private stateChanged(): void {
    const to = this.computeState();
    const from = this.lastState;
    if (to === from) return;
    this.lastState = to;
    this.emit('state', { from, to });
  }
}

function toLocalMetrics(m: LearnerMetrics & { trainMs: number }): LocalMetricsInit {
  return {
    trainLoss: m.trainLoss,
    trainAccuracy: m.trainAccuracy ?? 0,
    valAccuracy: m.valAccuracy ?? 0,
    distillLoss: m.distillLoss ?? 0,
    samples: Math.max(0, Math.round(m.samples)),
    trainMs: Math.max(0, Math.round(m.trainMs)),
    testAccuracy: m.testAccuracy ?? 0,
    hasTestAccuracy: m.testAccuracy !== undefined,
  };
}
