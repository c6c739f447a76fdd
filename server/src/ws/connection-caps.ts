/**
 * Caps on open WebSocket connections, global and per remote address, counted separately
 * for connections that have not authenticated yet (no Welcome sent). Unauthenticated sockets
 * cost memory (buffers, a pending Hello) and are what a flood is made of, so their caps are
 * much tighter than the caps on admitted participants.
 *
 * `admissible()` is checked at the HTTP upgrade (refused with 503 before any WebSocket is
 * made); `open()` takes a slot once the socket exists, because many upgrades can pass the
 * check at once. A ticket is released exactly once, whatever ends the connection.
 */

export interface ConnectionCapsOptions {
  /** Most open participant sockets, admitted or not. */
  maxConnections: number;
  /** Most open sockets from one remote address. */
  maxConnectionsPerAddress: number;
  /** Most sockets that have not completed Hello/Welcome yet. */
  maxUnauthenticated: number;
  /** Most sockets from one address that have not completed Hello/Welcome yet. */
  maxUnauthenticatedPerAddress: number;
}

export const DEFAULT_CONNECTION_CAPS: ConnectionCapsOptions = {
  maxConnections: 20_000,
  maxConnectionsPerAddress: 1_000,
  maxUnauthenticated: 1_000,
  maxUnauthenticatedPerAddress: 50,
};

export type CapRefusal = { reason: string };

export interface ConnectionTicket {
  /** The socket completed Hello/Welcome: it no longer counts as unauthenticated. */
  authenticated(): void;
  /** The socket ended. Idempotent. */
  release(): void;
}

export class ConnectionCaps {
  private total = 0;
  private unauthenticated = 0;
  private readonly byAddress = new Map<string, { total: number; unauthenticated: number }>();

  constructor(readonly options: ConnectionCapsOptions) {}

  /** Why a new socket from `address` would be refused, or null when it may open. */
  admissible(address: string): CapRefusal | null {
    const o = this.options;
    const a = this.byAddress.get(address);
    if (this.total >= o.maxConnections)
      return { reason: `the coordinator holds ${o.maxConnections} connections` };
    if (this.unauthenticated >= o.maxUnauthenticated)
      return { reason: `${o.maxUnauthenticated} connections are waiting to authenticate` };
    if (a && a.total >= o.maxConnectionsPerAddress)
      return { reason: `${o.maxConnectionsPerAddress} connections from this address are open` };
    if (a && a.unauthenticated >= o.maxUnauthenticatedPerAddress)
      return {
        reason: `${o.maxUnauthenticatedPerAddress} connections from this address are waiting to authenticate`,
      };
    return null;
  }

  /** Takes an unauthenticated slot for a new socket, or says why it must be closed. */
  open(address: string): ConnectionTicket | CapRefusal {
    const refused = this.admissible(address);
    if (refused) return refused;
    const a = this.byAddress.get(address) ?? { total: 0, unauthenticated: 0 };
    this.byAddress.set(address, a);
    a.total++;
    a.unauthenticated++;
    this.total++;
    this.unauthenticated++;
    let authed = false;
    let released = false;
    return {
      authenticated: () => {
        if (authed || released) return;
        authed = true;
        a.unauthenticated--;
        this.unauthenticated--;
      },
      release: () => {
        if (released) return;
        released = true;
        if (!authed) {
          a.unauthenticated--;
          this.unauthenticated--;
        }
        a.total--;
        this.total--;
        if (a.total === 0) this.byAddress.delete(address);
      },
    };
  }

  get counts(): { total: number; unauthenticated: number; addresses: number } {
    return { total: this.total, unauthenticated: this.unauthenticated, addresses: this.byAddress.size };
  }
}

export const isRefusal = (x: ConnectionTicket | CapRefusal): x is CapRefusal => 'reason' in x;
