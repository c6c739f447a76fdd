/**
 * The session's view of a message transport, so that the same ParticipantSession runs over a
 * browser WebSocket, the `ws` package in Node, or an in-process pair in tests.
 *
 * A Connection carries whole binary messages (one Mutua Envelope each) in order, and ends
 * exactly once: its close handler is called with a WebSocket close code whichever side
 * closed it, or with 1006 when it broke without a closing handshake. Messages and the close
 * that arrive before a handler is registered are held until it is, so a caller can register
 * handlers after `connect` resolves without losing the first frame.
 *
 * The in-process transport follows connect-es's createRouterTransport and ws's duplex pair:
 * a test writes the coordinator side against the same Connection interface and the client
 * code under test cannot tell the difference.
 */

/** WebSocket close code for a connection that ended without a close frame (RFC 6455). */
export const ABNORMAL_CLOSURE = 1006;

export type MessageHandler = (bytes: Uint8Array) => void;
export type CloseHandler = (code: number, reason: string) => void;

export interface Connection {
  /** Sends one binary message; ignored once the connection is closing or closed. */
  send(bytes: Uint8Array): void;
  /** Sets the message handler (one per connection; a later call replaces it). */
  onMessage(handler: MessageHandler): void;
  /** Sets the close handler (one per connection; called exactly once). */
  onClose(handler: CloseHandler): void;
  /** Starts the closing handshake; a no-op if already closing or closed. */
  close(code?: number, reason?: string): void;
}

export interface Transport {
  /** Opens a connection; rejects when the peer cannot be reached or refuses it. */
  connect(url: string): Promise<Connection>;
}

// ---------------------------------------------------------------- in-process pair

/** One end of an in-process connection. */
export interface MemoryConnection extends Connection {
  /** Breaks the connection without a closing handshake: both ends see 1006, in-flight messages are lost. */
  terminate(): void;
  readonly closed: boolean;
}

type Inbound = { kind: 'message'; bytes: Uint8Array } | { kind: 'close'; code: number; reason: string };

class MemoryEnd implements MemoryConnection {
  peer!: MemoryEnd;
  private closing = false;
  private done = false;
  private readonly inbox: Inbound[] = [];
  private scheduled = false;
  private messageHandler: MessageHandler | null = null;
  private closeHandler: CloseHandler | null = null;

  get closed(): boolean {
    return this.done;
  }

  send(bytes: Uint8Array): void {
    if (this.closing || this.peer.closing) return;
    // A copy, as a socket would make: the sender may reuse its buffer.
    this.peer.deliver({ kind: 'message', bytes: bytes.slice() });
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
    this.schedule();
  }

  onClose(handler: CloseHandler): void {
    this.closeHandler = handler;
    this.schedule();
  }

  close(code = 1000, reason = ''): void {
    if (this.closing) return;
    // Messages already sent are delivered before the close, as with a real closing handshake.
    this.closing = true;
    this.peer.closing = true;
    this.deliver({ kind: 'close', code, reason });
    this.peer.deliver({ kind: 'close', code, reason });
  }

  terminate(): void {
    if (this.done) return;
    for (const end of [this, this.peer]) {
      end.closing = true;
      // What was in flight is lost with the connection.
      end.inbox.length = 0;
      end.deliver({ kind: 'close', code: ABNORMAL_CLOSURE, reason: '' });
    }
  }

  private deliver(event: Inbound): void {
    if (this.done) return;
    if (this.inbox.some((e) => e.kind === 'close')) return;
    this.inbox.push(event);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inbox.length === 0) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    while (this.inbox.length > 0) {
      const next = this.inbox[0]!;
      if (next.kind === 'message') {
        if (!this.messageHandler) return;
        this.inbox.shift();
        this.messageHandler(next.bytes);
      } else {
        if (!this.closeHandler) return;
        this.inbox.length = 0;
        this.done = true;
        this.closing = true;
        this.closeHandler(next.code, next.reason);
        return;
      }
    }
  }
}

/** Two connected ends: what one sends, the other receives (in order, asynchronously). */
export function createConnectionPair(): [MemoryConnection, MemoryConnection] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/**
 * A Transport whose every `connect(url)` creates a fresh pair and hands the far end to
 * `accept`, which plays the server. If `accept` throws or rejects, `connect` rejects with
 * that error (an unreachable or refusing server).
 */
export function createMemoryTransport(
  accept: (server: MemoryConnection, url: string) => void | Promise<void>,
): Transport {
  return {
    async connect(url: string): Promise<Connection> {
      const [client, server] = createConnectionPair();
      await accept(server, url);
      return client;
    },
  };
}
