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

/** ws keeps its payload limit per server; its receiver reads it per message, so it can be set per socket. */
interface ReceiverWithLimit {
  _maxPayload?: unknown;
}

export class PreAuthGuard {
  private timer: NodeJS.Timeout | null;
  private restoreLimit: (() => void) | null = null;

  constructor(ws: WebSocket, helloTimeoutMs: number, onTimeout: () => void) {
    const receiver = (ws as unknown as { _receiver?: ReceiverWithLimit })._receiver;
    if (receiver && typeof receiver._maxPayload === 'number') {
      const full = receiver._maxPayload;
      receiver._maxPayload = Math.min(full > 0 ? full : Number.MAX_SAFE_INTEGER, PRE_AUTH_MAX_BUFFERED_BYTES);
      this.restoreLimit = () => {
        receiver._maxPayload = full;
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

  /** Welcome was sent: the deadline ends and the connection's full frame limit applies. */
  authenticated(): void {
    this.stop();
    this.restoreLimit?.();
    this.restoreLimit = null;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
