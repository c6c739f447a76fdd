/**
 * Corks the TCP socket under a `ws` WebSocket until the next tick, so the frames sent in
 * one tick (an Ack and the Task that follows it) leave in one write instead of one each.
 *
 * `ws` does not expose its net.Socket: this reads the private `_socket` field, in this one
 * place. Without it (another `ws` version) sending still works, only uncorked; the test
 * beside this file fails then, so an upgrade that drops the field is noticed.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export class TickCork {
  private corked = false;

  constructor(private readonly ws: WebSocket) {}

  /** The socket `ws` writes to, if this version of `ws` still keeps it where we look. */
  static socketOf(ws: WebSocket): Socket | undefined {
    return (ws as unknown as { _socket?: Socket })._socket;
  }

  /** Call before each send: the first send of a tick corks, the next tick uncorks. */
  cork(): void {
    if (this.corked) return;
    const socket = TickCork.socketOf(this.ws);
    if (!socket) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}
