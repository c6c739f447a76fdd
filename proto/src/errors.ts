/**
 * Protocol errors: every error a Mutua peer reports has a stable string code (the
 * `mutua.v1.ErrorCode` enum name), its wire number, whether the connection ends after it, and
 * the WebSocket close code that follows when it does.
 *
 * Policy (see PROTOCOL.md, "Errors"): a peer whose bytes cannot be trusted (framing) or whose
 * identity is not established (authentication, membership) is closed; a well-framed but
 * rejected submission is answered with an Error that carries `reply_to` and the connection
 * stays open, so one bad upload never costs a participant its session or anything the
 * coordinator already accepted.
 */
import { mutua } from './gen/mutua.js';

/** An `mutua.v1.ErrorCode` enum name, e.g. 'BAD_FRAME'. */
export type ErrorCodeName = keyof typeof mutua.v1.ErrorCode;

export interface ErrorPolicy {
  /** The coordinator closes the connection after sending this error. */
  readonly fatal: boolean;
  /**
   * WebSocket close code sent after the Error when fatal. For non-fatal codes it is the code
   * used if the coordinator escalates (a peer that keeps sending rejected messages).
   */
  readonly closeCode: number;
  /** What a client should do, in a few words (PROTOCOL.md has the full table). */
  readonly clientAction: string;
}

/**
 * Close codes: 1001/1003/1007/1008/1009/1011 are RFC 6455's; 4000-4010 are Mutua's, one per
 * reason, so that a close code alone tells a client whether reconnecting can help.
 */
export const ERROR_POLICY: Readonly<Record<ErrorCodeName, ErrorPolicy>> = {
  ERROR_CODE_UNSPECIFIED: { fatal: false, closeCode: 1011, clientAction: 'treat as INTERNAL' },
  // framing: the byte stream can no longer be trusted, so the connection ends
  BAD_FRAME: { fatal: true, closeCode: 1007, clientAction: 'fix the encoder; reconnect and resume' },
  FRAME_TOO_LARGE: {
    fatal: true,
    closeCode: 1009,
    clientAction: 'stay below Welcome.max_frame_bytes (smaller encoding or batch); reconnect and resume',
  },
  // a well-framed envelope whose body this peer does not know (perhaps a newer message type)
  EMPTY_BODY: { fatal: false, closeCode: 1008, clientAction: 'do not send that message to this coordinator' },
  UNEXPECTED_MESSAGE: { fatal: false, closeCode: 1008, clientAction: 'follow the message flow' },
  UNSUPPORTED_PROTOCOL: { fatal: true, closeCode: 4005, clientAction: 'upgrade the client; do not retry' },
  // a name or token a person or a database could not handle (NUL, control characters)
  BAD_TEXT: { fatal: true, closeCode: 1007, clientAction: 'send printable text; reconnect' },
  // authentication and membership: no identity, nothing to keep the connection for
  NOT_AUTHENTICATED: { fatal: true, closeCode: 4007, clientAction: 'send Hello first; reconnect' },
  BAD_TOKEN: {
    fatal: true,
    closeCode: 4001,
    clientAction: 'get a new join token; do not retry with this one',
  },
  TOKEN_REVOKED: { fatal: true, closeCode: 4003, clientAction: 'stop; the participant was removed' },
  FEDERATION_NOT_FOUND: { fatal: true, closeCode: 4004, clientAction: 'stop; the federation does not exist' },
  FEDERATION_PAUSED: {
    fatal: true,
    closeCode: 4010,
    clientAction: 'reconnect with backoff (retry_after_ms)',
  },
  FEDERATION_FULL: { fatal: true, closeCode: 4009, clientAction: 'reconnect later with backoff' },
  MODEL_MISMATCH: {
    fatal: true,
    closeCode: 4006,
    clientAction: 'use the federation input shape, classes, model',
  },
  // submissions: answered with reply_to, the connection stays
  BAD_SHAPE: { fatal: false, closeCode: 1008, clientAction: 'fix rows/classes/k; wait for the next Task' },
  BAD_PAYLOAD: { fatal: false, closeCode: 1008, clientAction: 'fix the encoder (see detail); next Task' },
  ENCODING_NOT_ALLOWED: { fatal: false, closeCode: 1008, clientAction: 'use Welcome.upload_encoding' },
  STALE_ROUND: { fatal: false, closeCode: 1008, clientAction: 'drop the result; work on the newest Task' },
  TOO_STALE: { fatal: false, closeCode: 1008, clientAction: 'drop the result; work on the newest Task' },
  UNKNOWN_ROUND: { fatal: false, closeCode: 1008, clientAction: 'send TaskRequest and use its round' },
  WRONG_STRATEGY: { fatal: false, closeCode: 1008, clientAction: 'follow FederationSettings.strategy' },
  DELTA_BASE_UNKNOWN: {
    fatal: false,
    closeCode: 1008,
    clientAction: 'resend the same upload full (delta_base 0)',
  },
  // limits and lifecycle
  RATE_LIMITED: { fatal: false, closeCode: 4008, clientAction: 'wait retry_after_ms, then resend' },
  HEARTBEAT_TIMEOUT: { fatal: true, closeCode: 4002, clientAction: 'reconnect and resume' },
  SHUTTING_DOWN: { fatal: true, closeCode: 1001, clientAction: 'reconnect with backoff and resume' },
  REPLACED: {
    fatal: true,
    closeCode: 4000,
    clientAction: 'stop: another connection took over; no reconnect',
  },
  INTERNAL: { fatal: false, closeCode: 1011, clientAction: 'resend later; if fatal, reconnect with backoff' },
};

export interface ProtocolErrorOptions {
  /** Machine-readable sub-code, e.g. 'PAYLOAD_ROW_SUM' or 'TRUNCATED'. */
  detail?: string;
  /** Override the table's fatality (e.g. RATE_LIMITED escalated, ENCODING_NOT_ALLOWED at Hello). */
  fatal?: boolean;
  /** Override the table's close code (e.g. 1003 for a text frame). */
  closeCode?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

/** A coded protocol error. Thrown by nothing in this package: codec functions return it. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ErrorCodeName;
  /** The `mutua.v1.ErrorCode` number. */
  readonly wireCode: number;
  readonly fatal: boolean;
  readonly closeCode: number;
  readonly detail: string;
  readonly retryAfterMs: number;

  constructor(code: ErrorCodeName, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const policy = ERROR_POLICY[code];
    this.code = code;
    this.wireCode = mutua.v1.ErrorCode[code];
    this.fatal = options.fatal ?? policy.fatal;
    this.closeCode = options.closeCode ?? policy.closeCode;
    this.detail = options.detail ?? '';
    this.retryAfterMs = options.retryAfterMs ?? 0;
  }
}

/** The enum name of an ErrorCode number; unknown numbers (from a newer peer) map to undefined. */
export function errorCodeName(wireCode: number): ErrorCodeName | undefined {
  const name = (mutua.v1.ErrorCode as unknown as Record<number, string | undefined>)[wireCode];
  return name !== undefined && name in ERROR_POLICY ? (name as ErrorCodeName) : undefined;
}

/** The `Error` body for `err` (close_code is 0 unless the connection ends). */
export function errorBody(err: ProtocolError): mutua.v1.Error.$Properties {
  return {
    code: err.wireCode,
    message: err.message,
    fatal: err.fatal,
    retryAfterMs: err.retryAfterMs,
    closeCode: err.fatal ? err.closeCode : 0,
    detail: err.detail,
  };
}

/**
 * An Envelope carrying `err`, answering the message whose seq was `replyTo` (0 when the frame
 * could not be decoded far enough to know it). The sender fills in its own `seq`.
 */
export function errorEnvelope(err: ProtocolError, replyTo = 0, seq = 0): mutua.v1.Envelope.$Properties {
  return { seq, replyTo, error: errorBody(err) };
}

/**
 * The ProtocolError a received `Error` body describes, for clients. An unknown code from a
 * newer coordinator becomes INTERNAL with the number in `detail`; `fatal` and the close code
 * are taken from the message, which is authoritative.
 */
export function protocolErrorFromBody(body: mutua.v1.Error.$Properties): ProtocolError {
  const wire = body.code ?? 0;
  const name = errorCodeName(wire);
  const detail = body.detail ?? '';
  return new ProtocolError(name ?? 'INTERNAL', body.message ?? '', {
    detail: name === undefined ? `UNKNOWN_CODE_${wire}${detail ? ` ${detail}` : ''}` : detail,
    fatal: body.fatal ?? false,
    closeCode: body.closeCode || ERROR_POLICY[name ?? 'INTERNAL'].closeCode,
    retryAfterMs: body.retryAfterMs ?? 0,
  });
}
