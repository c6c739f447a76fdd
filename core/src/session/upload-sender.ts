/**
 * Delivers one upload until it is acknowledged or dropped. Work is not tied to a connection:
 * an upload whose Ack did not arrive is sent again on the next welcomed link (the coordinator
 * answers a repeat with `duplicate: true`, so resending is safe). An Ack or Error answers it
 * only when it replies to the seq it was last sent with, on that same link.
 *
 * Rejections: RATE_LIMITED, INTERNAL (and an unspecified code) resend it after a delay, up
 * to MAX_UPLOAD_TRIES sends; UNKNOWN_ROUND drops it and the session asks for its task;
 * every other code (STALE_ROUND, TOO_STALE, the shape and payload errors) drops it.
 */
import type { ProtocolError } from '@mutua/proto';
import type { Body } from './connection-loop.ts';
import type { TimedMetrics } from './upload-builder.ts';

export const MAX_UPLOAD_TRIES = 4;

/** Sends on the open welcomed link: null without one, `tooLarge` when over the coordinator's limit. */
export type Transmit = (
  body: Body,
) => { link: object; seq: number; bytes: number } | { tooLarge: number } | null;

export interface UploadSenderDeps {
  transmit: Transmit;
  /** The open welcomed link, to tell whether a reply belongs to the last send. */
  link(): object | null;
  /** Delay before resend number `tries` + 1 (at least the coordinator's hint). */
  retryDelay(tries: number, retryAfterMs: number): number;
}

export type SendOutcome = 'sent' | 'not-now' | { tooLarge: number };
export type RejectOutcome = 'retrying' | 'dropped' | 'request-task';

export class UploadSender {
  /** Size of the last frame sent. */
  frameBytes = 0;
  /** Sends so far. */
  tries = 0;
  private sentOn: { link: object; seq: number } | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly round: number,
    private current: Body,
    readonly metrics: TimedMetrics,
    private readonly deps: UploadSenderDeps,
  ) {}

  /** Sends unless already sent on the open link or a resend is scheduled; 'not-now' without a link. */
  send(): SendOutcome {
    if (this.retryTimer || this.sentOnOpenLink()) return 'not-now';
    const sent = this.deps.transmit(this.current);
    if (!sent) return 'not-now';
    if ('tooLarge' in sent) return sent;
    this.sentOn = { link: sent.link, seq: sent.seq };
    this.frameBytes = sent.bytes;
    this.tries++;
    return 'sent';
  }

  /** Sent on the link that is open now, so an answer may still come on it. */
  sentOnOpenLink(): boolean {
    const link = this.deps.link();
    return this.sentOn !== null && link !== null && this.sentOn.link === link;
  }

  /** Whether a reply to `replyTo` on the open link answers this upload. */
  isAnsweredBy(replyTo: number): boolean {
    return replyTo !== 0 && this.sentOnOpenLink() && this.sentOn!.seq === replyTo;
  }

  /** The coordinator refused it; `resend` runs when a scheduled resend is due. */
  rejected(error: ProtocolError, resend: () => void): RejectOutcome {
    switch (error.code) {
      case 'RATE_LIMITED':
      case 'INTERNAL':
      case 'ERROR_CODE_UNSPECIFIED':
        if (this.tries >= MAX_UPLOAD_TRIES) return 'dropped';
        this.sentOn = null;
        this.retryTimer = setTimeout(
          () => {
            this.retryTimer = null;
            resend();
          },
          this.deps.retryDelay(this.tries, error.retryAfterMs),
        );
        return 'retrying';
      case 'UNKNOWN_ROUND':
        return 'request-task';
      default:
        return 'dropped';
    }
  }

  get body(): Body {
    return this.current;
  }

  /** The same upload in another form (a delta the coordinator cannot decode, sent full): the next send uses it. */
  replace(body: Body): void {
    this.current = body;
    this.sentOn = null;
  }

  /** Cancels a scheduled resend (the upload left the session). */
  cancel(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
