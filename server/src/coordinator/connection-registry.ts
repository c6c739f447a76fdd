/**
 * Every open participant socket, and the one live connection per admitted participant: a
 * participant connecting again replaces (and the caller ends) its older connection.
 */
import type { ProtocolError } from '@mutua/proto';
import type { CoordinatorMetrics } from '../metrics-registry.ts';
import type { ParticipantConnection } from '../ws/participant-connection.ts';

export class ConnectionRegistry {
  private readonly byParticipant = new Map<string, ParticipantConnection>();
  /** Live connections per federation (lifecycle events say how many are online). */
  private readonly perFederation = new Map<string, number>();
  /** Every open socket, admitted or not, so shutdown can tell each one. */
  private readonly sockets = new Set<ParticipantConnection>();

  constructor(private readonly metrics: CoordinatorMetrics) {}

  /** Keeps an open socket (admitted or not) until it ends. */
  track(conn: ParticipantConnection): void {
    this.sockets.add(conn);
    void conn.ended.then(() => this.sockets.delete(conn));
  }

  isOnline(participantId: string): boolean {
    return this.byParticipant.has(participantId);
  }

  /** Makes `conn` the participant's live connection; returns the one it replaces, if any. */
  register(
    participantId: string,
    conn: ParticipantConnection,
    federationId: string,
  ): ParticipantConnection | undefined {
    const old = this.byParticipant.get(participantId);
    this.byParticipant.set(participantId, conn);
    if (!old) {
      this.metrics.participantsOnline.inc({ federation: federationId });
      this.perFederation.set(federationId, this.onlineIn(federationId) + 1);
    }
    return old;
  }

  /** Forgets `conn` if it is still the participant's live connection (true then). */
  unregister(participantId: string, conn: ParticipantConnection, federationId: string): boolean {
    if (this.byParticipant.get(participantId) !== conn) return false;
    this.byParticipant.delete(participantId);
    this.metrics.participantsOnline.inc({ federation: federationId }, -1);
    const left = this.onlineIn(federationId) - 1;
    if (left > 0) this.perFederation.set(federationId, left);
    else this.perFederation.delete(federationId);
    return true;
  }

  /** Participants of the federation connected now. */
  onlineIn(federationId: string): number {
    return this.perFederation.get(federationId) ?? 0;
  }

  /** Ends the live connections of the participants `which` selects with `err`. */
  terminate(which: (participantId: string) => boolean, err: ProtocolError): void {
    for (const [id, conn] of this.byParticipant) if (which(id)) conn.terminateWith(err);
  }

  /** Ends these participants' connections with `err` (e.g. their tokens were revoked). */
  disconnect(participantIds: Iterable<string>, err: ProtocolError): void {
    for (const id of participantIds) this.byParticipant.get(id)?.terminateWith(err);
  }

  /** Tells every open socket `err` and resolves once all have ended. */
  async closeAll(err: ProtocolError): Promise<void> {
    const open = [...this.sockets];
    for (const conn of open) conn.terminateWith(err);
    // Peers answer the close handshake at once; a silent one is terminated after a few seconds.
    await Promise.all(open.map((c) => c.ended));
  }
}
