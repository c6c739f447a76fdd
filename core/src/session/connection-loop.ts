/**
 * The connection to the coordinator: connect and say Hello, wait for the Welcome, keep the
 * link alive with heartbeats, and reconnect with backoff when it breaks. This is where the
 * client decides to reconnect.
 *
 *   idle --connect()--> connecting --open--> awaiting-welcome --established()--> connected
 *   connecting --unreachable--> backoff --timer--> connecting
 *   awaiting-welcome | connected --lost--> backoff | connecting (join fallback) | failed
 *   any --drain()--> draining (stop(): no reconnects; a welcomed link stays for the last Ack and Leave)
 *   any --close()--> closed
 *
 * Abnormal closes, SHUTTING_DOWN, heartbeat and Welcome timeouts and every other retryable
 * error reconnect with exponential backoff and jitter (backoff.ts; never sooner than the
 * coordinator's retry_after_ms). The codes in NO_RETRY end the session ('failed'): retrying
 * cannot succeed, except that a rejected resume token is retried once with the join token.
 *
 * The loop owns the byte stream: it decodes frames, answers heartbeats and drops the link on
 * a fatal Error or an undecodable frame (the stream cannot be trusted); every other envelope
 * goes to the session. It knows nothing of tasks or learners.
 */
import {
  type BodyName,
  type DecodedEnvelope,
  decodeFrame,
  type EnvelopeInit,
  ERROR_POLICY,
  type ErrorCodeName,
  encodeEnvelope,
  type ProtocolError,
  protocolErrorFromBody,
} from '@mutua/proto';
import { backoffDelay } from './backoff.ts';
import { TypedEmitter } from './emitter.ts';
import { SessionError } from './session-error.ts';
import type { ReconnectingEvent, ReconnectOptions } from './session-types.ts';
import type { HelloToken, TokenKeeper } from './token-keeper.ts';
import type { Connection, Transport } from './transport.ts';

export type Body = Omit<EnvelopeInit, 'seq' | 'replyTo'>;

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

export function errorFromClose(code: number, reason: string): SessionError {
  const name = reason in ERROR_POLICY ? (reason as ErrorCodeName) : CLOSE_CODE_NAMES.get(code);
  const text = `the connection closed (${code}${reason ? ` ${reason}` : ''})`;
  return new SessionError(name ?? 'CONNECTION_LOST', text, { closeCode: code });
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One open connection: its frame numbering and its timers. */
export class Link {
  seq = 0;
  lastReceivedAt = Date.now();
  welcomeTimer: ReturnType<typeof setTimeout> | null = null;
  heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(readonly conn: Connection) {}

  stopTimers(): void {
    if (this.welcomeTimer) clearTimeout(this.welcomeTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.welcomeTimer = null;
    this.heartbeat = null;
  }
}

/** `attempt`: reconnect attempts since the last Welcome (0 = none failed yet). */
export type LoopState =
  | { kind: 'idle'; attempt: number }
  | { kind: 'connecting'; attempt: number }
  | { kind: 'awaiting-welcome'; attempt: number; link: Link }
  | { kind: 'connected'; link: Link }
  | { kind: 'backoff'; attempt: number; timer: ReturnType<typeof setTimeout> }
  | { kind: 'draining'; link: Link | null }
  | { kind: 'closed' };

export interface LoopEvents {
  /** The state changed in a way the session reports (every transition but the instant after a loss). */
  changed: LoopState;
  /** A decoded envelope for the session: anything but a heartbeat or a fatal Error. */
  envelope: { env: DecodedEnvelope; body: BodyName };
  /** A non-fatal Error from the coordinator and the seq it answers (0 = none). */
  rejected: { error: ProtocolError; replyTo: number };
  /** A non-fatal problem to report (a bad frame, the join-token fallback). */
  error: SessionError;
  /** The live link ended; the loop decides what comes next right after the listeners ran. */
  lost: SessionError;
  reconnecting: ReconnectingEvent;
  /** The loop gave up: a fatal error, no more reconnects. */
  failed: SessionError;
}

export interface ConnectionLoopOptions {
  url: string;
  transport: Transport;
  tokens: TokenKeeper;
  /** The Hello body for a token. */
  hello(token: HelloToken): Body;
  reconnect?: ReconnectOptions;
  random?: () => number;
  welcomeTimeoutMs?: number;
  heartbeat?: boolean;
  maxIncomingFrameBytes?: number;
}

export class ConnectionLoop extends TypedEmitter<LoopEvents> {
  private current: LoopState = { kind: 'idle', attempt: 0 };
  private up = 0;
  private down = 0;

  constructor(private readonly opts: ConnectionLoopOptions) {
    super();
  }

  get state(): LoopState {
    return this.current;
  }

  /** The open link (awaiting its Welcome, welcomed, or kept while draining); null when there is none. */
  get link(): Link | null {
    const s = this.current;
    return s.kind === 'awaiting-welcome' || s.kind === 'connected' || s.kind === 'draining' ? s.link : null;
  }

  /** The open link once the coordinator has welcomed it. */
  get welcomedLink(): Link | null {
    const s = this.current;
    return s.kind === 'connected' || s.kind === 'draining' ? s.link : null;
  }

  get traffic(): { bytesUp: number; bytesDown: number } {
    return { bytesUp: this.up, bytesDown: this.down };
  }

  /** Connects (from idle). */
  start(): void {
    if (this.current.kind === 'idle') void this.connect(this.current.attempt);
  }

  /** The Welcome was accepted: the link is established, the attempt count starts over. */
  established(heartbeatIntervalMs: number): void {
    const s = this.current;
    if (s.kind !== 'awaiting-welcome') return;
    s.link.stopTimers();
    this.enter({ kind: 'connected', link: s.link });
    this.startHeartbeat(s.link, heartbeatIntervalMs);
  }

  /** No more reconnects: a pending one is cancelled, a link not yet welcomed is closed. */
  drain(closeReason: string): void {
    const s = this.current;
    if (s.kind === 'closed' || s.kind === 'draining') return;
    if (s.kind === 'backoff') clearTimeout(s.timer);
    if (s.kind === 'awaiting-welcome') {
      s.link.stopTimers();
      s.link.conn.close(1000, closeReason);
    }
    this.current = { kind: 'draining', link: s.kind === 'connected' ? s.link : null };
  }

  /** The end: timers stop and the link is closed with `reason`. */
  close(reason: string): void {
    const link = this.link;
    if (this.current.kind === 'backoff') clearTimeout(this.current.timer);
    this.current = { kind: 'closed' };
    link?.stopTimers();
    link?.conn.close(1000, reason);
  }

  /**
   * Encodes and sends one envelope on the open link. Null without a link; `tooLarge` (and
   * nothing sent) when the frame exceeds maxBytes > 0.
   */
  transmit(
    body: Body,
    replyTo = 0,
    maxBytes = 0,
  ): { link: Link; seq: number; bytes: number } | { tooLarge: number } | null {
    const link = this.link;
    if (!link) return null;
    const seq = link.seq + 1;
    const frame = encodeEnvelope({ ...body, seq, replyTo });
    if (maxBytes > 0 && frame.byteLength > maxBytes) return { tooLarge: frame.byteLength };
    link.seq = seq;
    this.up += frame.byteLength;
    link.conn.send(frame);
    return { link, seq, bytes: frame.byteLength };
  }

  /** Closes the open link from this side and handles it as lost, without waiting for the close handshake. */
  drop(error: SessionError): void {
    const link = this.link;
    if (!link) return;
    link.conn.close(1000, error.code);
    this.lost(link, error);
  }

  // ------------------------------------------------------------ connecting

  private async connect(attempt: number): Promise<void> {
    const me: LoopState = { kind: 'connecting', attempt };
    this.enter(me);
    let hello: Body;
    try {
      hello = this.opts.hello(await this.opts.tokens.pick());
    } catch (err) {
      if (this.current !== me) return;
      this.emit(
        'failed',
        err instanceof SessionError
          ? err.fatal
            ? err
            : err.asFatal()
          : new SessionError('STORAGE', describe(err), { fatal: true, cause: err }),
      );
      return;
    }
    // Stopped while the token was read: nothing to open.
    if (this.current !== me) return;
    let conn: Connection;
    try {
      conn = await this.opts.transport.connect(this.opts.url);
    } catch (err) {
      if (this.current !== me) return;
      this.retry(
        new SessionError('UNREACHABLE', `cannot reach ${this.opts.url}: ${describe(err)}`, { cause: err }),
        attempt,
      );
      return;
    }
    if (this.current !== me) {
      conn.close(1000, 'stopped');
      return;
    }
    const link = new Link(conn);
    conn.onMessage((bytes) => this.onMessage(link, bytes));
    conn.onClose((code, reason) => this.lost(link, errorFromClose(code, reason)));
    this.enter({ kind: 'awaiting-welcome', attempt, link });
    this.transmit(hello);
    link.welcomeTimer = setTimeout(() => {
      link.welcomeTimer = null;
      this.drop(new SessionError('WELCOME_TIMEOUT', 'the coordinator did not answer Hello in time'));
    }, this.opts.welcomeTimeoutMs ?? 30_000);
  }

  private retry(error: SessionError, previousAttempts: number): void {
    const attempt = previousAttempts + 1;
    const max = this.opts.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY;
    if (attempt > max) {
      this.emit('failed', error.asFatal(`${error.message} (gave up after ${max} reconnect attempts)`));
      return;
    }
    const delayMs = Math.max(
      backoffDelay(attempt, this.opts.reconnect, this.opts.random),
      error.retryAfterMs,
    );
    const timer = setTimeout(() => void this.connect(attempt), delayMs);
    this.enter({ kind: 'backoff', attempt, timer });
    // A listener may stop the session; drain() then cancels the timer.
    this.emit('reconnecting', { attempt, delayMs, error });
  }

  /** A link ended (closed by either side, or dropped): reconnect, fall back to the join token, or give up. */
  private lost(link: Link, error: SessionError): void {
    if (link !== this.link) return;
    link.stopTimers();
    const s = this.current;
    if (s.kind === 'draining') {
      this.current = { kind: 'draining', link: null };
      this.emit('lost', error);
      return;
    }
    const attempt = s.kind === 'awaiting-welcome' ? s.attempt : 0;
    const idle: LoopState = { kind: 'idle', attempt };
    // Not announced: the next transition (backoff, connecting, closed) follows at once.
    this.current = idle;
    this.emit('lost', error);
    if (this.current !== idle) return;
    if (!NO_RETRY.has(error.code)) {
      this.retry(error, attempt);
      return;
    }
    if (error.code === 'BAD_TOKEN' && this.opts.tokens.fallBackToJoin()) {
      this.emit(
        'error',
        new SessionError(
          'BAD_TOKEN',
          `the resume token was rejected (${error.message}); joining again with the join token`,
          { cause: error },
        ),
      );
      void this.connect(attempt);
      return;
    }
    this.emit('failed', error.fatal ? error : error.asFatal());
  }

  // ------------------------------------------------------------ frames

  private onMessage(link: Link, bytes: Uint8Array): void {
    if (link !== this.link) return;
    this.down += bytes.byteLength;
    link.lastReceivedAt = Date.now();
    const decoded = decodeFrame(bytes, { maxFrameBytes: this.opts.maxIncomingFrameBytes ?? 256 * 2 ** 20 });
    if (!decoded.ok) {
      const error = SessionError.fromProtocol(decoded.error);
      if (decoded.error.fatal) this.drop(error);
      else this.emit('error', error);
      return;
    }
    const env = decoded.envelope;
    if (decoded.body === 'heartbeat') {
      if (!env.heartbeat?.reply)
        this.transmit({ heartbeat: { unixMs: Date.now(), reply: true } }, env.seq ?? 0);
      return;
    }
    if (decoded.body === 'error') {
      const error = protocolErrorFromBody(env.error!);
      // The coordinator closes after a fatal error; decide now rather than wait for its close frame.
      if (error.fatal) this.drop(SessionError.fromProtocol(error));
      else this.emit('rejected', { error, replyTo: env.replyTo ?? 0 });
      return;
    }
    this.emit('envelope', { env, body: decoded.body });
  }

  private startHeartbeat(link: Link, intervalMs: number): void {
    if (!(intervalMs > 0) || this.opts.heartbeat === false) return;
    let lastTick = Date.now();
    link.lastReceivedAt = lastTick;
    link.heartbeat = setInterval(() => {
      const now = Date.now();
      // A tick far behind schedule means this thread was blocked: the silence is ours, not the peer's.
      if (now - lastTick > 2 * intervalMs) link.lastReceivedAt = now;
      lastTick = now;
      if (now - link.lastReceivedAt > 3 * intervalMs) {
        this.drop(
          new SessionError(
            'HEARTBEAT_LOST',
            `nothing received from the coordinator for ${now - link.lastReceivedAt} ms`,
          ),
        );
        return;
      }
      this.transmit({ heartbeat: { unixMs: now, reply: false } });
    }, intervalMs);
  }

  private enter(state: LoopState): void {
    this.current = state;
    this.emit('changed', state);
  }
}
