/**
 * What a socket may cost before it has authenticated (PROTOCOL.md, "Before Welcome"):
 * frames of at most PRE_AUTH_MAX_FRAME_BYTES, checked before decoding; fragments buffered
 * by ws bounded to the same order (not the post-Welcome max_frame_bytes); and a Hello
 * deadline, after which the socket is closed. After Welcome the connection's normal limits
 * apply.
 *
 * Why: an unauthenticated peer costs nothing to open and must not be able to make the
 * coordinator decode megabytes, hold unfinished fragmented messages, or keep a socket
 * forever. The largest valid Hello (two 512-byte tokens, four 256-byte strings, a shape)
 * is under 3 KiB.
 *
 * After Welcome the limit is what the participant's federation can need (admittedFrameLimit),
 * not the configured maximum: a participant of a mutual federation never has a reason to send
 * megabytes, so an admitted peer cannot make the coordinator buffer them either.
 */
import type { WebSocket } from 'ws';

/** Largest frame accepted before Welcome (a Hello), in bytes. */
export const PRE_AUTH_MAX_FRAME_BYTES = 4096;
/**
 * Above this ws itself closes with 1009 while buffering (no coded Error: the message is not
 * even read). Between the two limits the frame gets a coded FRAME_TOO_LARGE.
 */
export const PRE_AUTH_MAX_BUFFERED_BYTES = 64 * 1024;
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;

/** Floor of the admitted limit: room for any MetricsReport, Leave or small upload. */
export const MIN_ADMITTED_FRAME_BYTES = 256 * 1024;
/** Frames above the limit by at most this are read and answered FRAME_TOO_LARGE; larger ones ws cuts with 1009. */
const CODED_OVERSHOOT_BYTES = 64 * 1024;

/** What the admitted limit depends on (a FederationRecord has it). */
export interface FrameLimitFederation {
  settings: { strategy: string; task: { numClasses: number } };
  publicSet: { sampleCount: number };
}

/**
 * The largest frame an admitted participant may send (Welcome.max_frame_bytes). mutual: its
 * largest upload covers every public row (a batch is at most the public set) at 8 bytes per
 * probability (float32 is 4; a top-k entry with its class index at most 8), plus 16 bytes a row
 * for indices and versions, plus 64 KiB for everything else; never under
 * MIN_ADMITTED_FRAME_BYTES nor above the configured maximum. fedavg uploads whole weights:
 * the configured maximum.
 */
export function admittedFrameLimit(
  federation: {
    settings: { strategy: string; task: { numClasses: number } };
    publicSet: { sampleCount: number };
  },
  configured: number,
): number {
  if (federation.settings.strategy !== 'mutual') return configured;
  const rows = federation.publicSet.sampleCount;
  const need = rows * (federation.settings.task.numClasses * 8 + 16) + 64 * 1024;
  return Math.min(configured, Math.max(MIN_ADMITTED_FRAME_BYTES, need));
}

/** ws keeps its payload limit per server; its receiver reads it per message, so it can be set per socket. */
interface ReceiverWithLimit {
  _maxPayload?: unknown;
}

export class PreAuthGuard {
  private timer: NodeJS.Timeout | null;
  private setLimit: ((bytes: number) => void) | null = null;
  /** Frames above this are FRAME_TOO_LARGE (the pre-auth limit until Welcome). */
  maxFrameBytes = PRE_AUTH_MAX_FRAME_BYTES;

  constructor(ws: WebSocket, helloTimeoutMs: number, onTimeout: () => void) {
    const receiver = (ws as unknown as { _receiver?: ReceiverWithLimit })._receiver;
    if (receiver && typeof receiver._maxPayload === 'number') {
      const full = receiver._maxPayload > 0 ? receiver._maxPayload : Number.MAX_SAFE_INTEGER;
      receiver._maxPayload = Math.min(full, PRE_AUTH_MAX_BUFFERED_BYTES);
      this.setLimit = (bytes) => {
        receiver._maxPayload = Math.min(full, bytes + CODED_OVERSHOOT_BYTES);
      };
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      onTimeout();
    }, helloTimeoutMs);
    this.timer.unref?.();
  }

  /** A frame of this size before Welcome is refused without decoding. */
  static tooLarge(size: number): boolean {
    return size > PRE_AUTH_MAX_FRAME_BYTES;
  }

  /**
   * Admitted to `federation`: the deadline ends and frames up to its admittedFrameLimit are
   * read; returns that limit (Welcome.max_frame_bytes).
   */
  authenticated(federation: FrameLimitFederation, configured: number): number {
    this.stop();
    this.maxFrameBytes = admittedFrameLimit(federation, configured);
    this.setLimit?.(this.maxFrameBytes);
    this.setLimit = null;
    return this.maxFrameBytes;
  }

  /**
   * The coordinator closed the socket: terminate it unless the peer completes the closing
   * handshake within `ms`. The timer is cleared at close (stop()), so a closed connection is
   * not kept alive for `ms` by it: at hundreds of connections a second that held thousands of
   * dead connections, promoted them to V8's old generation and grew the heap (npm run fuzz).
   */
  closing(ms: number, terminate: () => void): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.timer = null;
      terminate();
    }, ms);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
