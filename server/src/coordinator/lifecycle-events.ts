/**
 * What happens to federations, participants, rounds and tokens, told to whoever listens:
 * the log (one info line each, logLifecycle below) and the dashboard's live stream
 * (routes/federations/events.ts). Published by the admin service, the connection registry
 * and the federation runtimes; a listener that throws is dropped from nothing and breaks
 * nothing (its error is swallowed: an event is a notice, never part of the work).
 */
import type { FastifyBaseLogger } from 'fastify';

export type LifecycleEvent =
  | { type: 'federation-created'; federationId: string; name: string; mode: string; minParticipants: number }
  | { type: 'federation-paused' | 'federation-resumed' | 'federation-deleted'; federationId: string }
  | { type: 'participant-joined'; federationId: string; participantId: string; online: number }
  | { type: 'participant-left'; federationId: string; participantId: string; online: number }
  | { type: 'participant-replaced'; federationId: string; participantId: string }
  | { type: 'round-opened'; federationId: string; round: number }
  | {
      type: 'round-closed';
      federationId: string;
      round: number;
      submissions: number;
      reason: string;
      aggregationMs: number;
    }
  | { type: 'waiting-for-participants'; federationId: string; online: number; minParticipants: number }
  | { type: 'token-issued'; federationId: string; tokenId: string; label: string }
  | { type: 'token-revoked'; federationId: string; tokenId: string; disconnected: number };

export type LifecycleListener = (event: LifecycleEvent) => void;

export class LifecycleEvents {
  private readonly listeners = new Set<LifecycleListener>();

  /** Subscribes; returns the unsubscribe function. */
  on(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: LifecycleEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure (a closed stream) must not undo or delay the work it reports.
      }
    }
  }
}

/** The log line of each event: its own message, its fields as they are. */
const MESSAGES: Record<LifecycleEvent['type'], string> = {
  'federation-created': 'federation created',
  'federation-paused': 'federation paused',
  'federation-resumed': 'federation resumed',
  'federation-deleted': 'federation deleted',
  'participant-joined': 'participant joined',
  'participant-left': 'participant left',
  'participant-replaced': 'participant replaced (connected again from another connection)',
  'round-opened': 'round opened',
  'round-closed': 'round closed',
  'waiting-for-participants': 'waiting for participants',
  'token-issued': 'join token issued',
  'token-revoked': 'join token revoked',
};

/** Logs every event at info, except a round opening (debug: it follows every close). */
export function logLifecycle(events: LifecycleEvents, log: FastifyBaseLogger): () => void {
  return events.on((e) => {
    const { type, ...fields } = e;
    const round =
      'aggregationMs' in fields
        ? { ...fields, aggregationMs: Math.round(fields.aggregationMs * 100) / 100 }
        : fields;
    if (type === 'round-opened') log.debug(round, MESSAGES[type]);
    else log.info(round, MESSAGES[type]);
  });
}
