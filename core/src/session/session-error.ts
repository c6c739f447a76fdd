/**
 * Errors a ParticipantSession reports. Protocol errors keep the coordinator's code (the
 * mutua.v1.ErrorCode name, e.g. BAD_TOKEN); problems found on this side have their own
 * codes, listed in LocalErrorCode. `fatal` here means "the session ends": a CLI prints the
 * code and message and exits, whereas a non-fatal error is reported and the session goes on
 * (reconnecting, or waiting for the next Task).
 */
import type { ErrorCodeName, ProtocolError } from '@mutua/proto';

export type LocalErrorCode =
  /** The transport could not connect (refused, DNS, TLS, ...). */
  | 'UNREACHABLE'
  /** The connection broke (close code 1006 or an unexplained close). */
  | 'CONNECTION_LOST'
  /** No Welcome arrived in time after Hello. */
  | 'WELCOME_TIMEOUT'
  /** The coordinator stopped answering (no frame for several heartbeat intervals). */
  | 'HEARTBEAT_LOST'
  /** The Welcome is unusable (missing settings, impossible values). */
  | 'BAD_WELCOME'
  /** The federation accepts no prediction encoding this client supports. */
  | 'NO_COMMON_ENCODING'
  /** The public set could not be fetched, decoded, or does not match its descriptor. */
  | 'PUBLIC_SET'
  /** The learner failed (training, prediction, or its result could not be encoded). */
  | 'LEARNER'
  /** Neither a join token nor a resume token is available. */
  | 'NO_TOKEN'
  /** The token storage failed. */
  | 'STORAGE';

export type SessionErrorCode = ErrorCodeName | LocalErrorCode;

export interface SessionErrorOptions {
  fatal?: boolean;
  /** The task round the error concerns, when it concerns one. */
  round?: number;
  /** WebSocket close code that came with it, if any. */
  closeCode?: number;
  /** Machine-readable sub-code (a ProtocolError's detail, e.g. PAYLOAD_ROW_SUM). */
  detail?: string;
  /** Coordinator's retry hint (RATE_LIMITED, SHUTTING_DOWN, FEDERATION_PAUSED). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class SessionError extends Error {
  override readonly name = 'SessionError';
  readonly code: SessionErrorCode;
  /** The session ends because of this error (no reconnect). */
  readonly fatal: boolean;
  readonly round: number | undefined;
  readonly closeCode: number | undefined;
  readonly detail: string;
  readonly retryAfterMs: number;

  constructor(code: SessionErrorCode, message: string, options: SessionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fatal = options.fatal ?? false;
    this.round = options.round;
    this.closeCode = options.closeCode;
    this.detail = options.detail ?? '';
    this.retryAfterMs = options.retryAfterMs ?? 0;
  }

  /** The same error, marked as ending the session. */
  asFatal(message = this.message): SessionError {
    return new SessionError(this.code, message, {
      fatal: true,
      round: this.round,
      closeCode: this.closeCode,
      detail: this.detail,
      retryAfterMs: this.retryAfterMs,
      cause: this.cause,
    });
  }

  /** A coordinator's ProtocolError as a session error; `fatal` is the session's decision, not the wire flag. */
  static fromProtocol(
    err: ProtocolError,
    options: Omit<SessionErrorOptions, 'detail' | 'cause'> = {},
  ): SessionError {
    return new SessionError(err.code, err.message, {
      detail: err.detail,
      retryAfterMs: err.retryAfterMs,
      closeCode: err.fatal ? err.closeCode : undefined,
      ...options,
      cause: err,
    });
  }
}
