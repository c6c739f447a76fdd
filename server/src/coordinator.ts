/**
 * The live side of the coordinator, owned by the `coordinator` plugin. It wires four
 * parts, one job each (under ./coordinator/): admission (Hello → decision), the
 * federation runtimes, the connection registry and the traffic meter; and it stops them
 * in order at shutdown.
 */
import { type HelloInit, ProtocolError } from '@mutua/proto';
import type { FastifyBaseLogger } from 'fastify';
import type { Cluster } from './cluster/cluster.ts';
import { admit } from './coordinator/admission.ts';
import { AdmissionBatcher } from './coordinator/admission-batcher.ts';
import { ConnectionRegistry } from './coordinator/connection-registry.ts';
import { FederationRuntimes } from './coordinator/federation-runtimes.ts';
import { LifecycleEvents, logLifecycle } from './coordinator/lifecycle-events.ts';
import { TrafficMeter } from './coordinator/traffic-meter.ts';
import type { FederationRecord, LiveStore } from './db/store.ts';
import type { FederationRuntime } from './engine/federation-runtime.ts';
import type { CoordinatorMetrics } from './metrics-registry.ts';
import type { Admission, ParticipantConnection } from './ws/participant-connection.ts';

export interface CoordinatorOptions {
  db: LiveStore;
  metrics: CoordinatorMetrics;
  log: FastifyBaseLogger;
  maxFrameBytes: number;
  heartbeatIntervalMs: number;
  /** Upload payloads kept beyond what recovery needs, in versions (engine/payload-retention.ts). */
  payloadRetentionVersions?: number;
  /** Traffic counters are written at most this often (they are also flushed at shutdown). */
  trafficFlushMs?: number;
  /** Set on a cluster replica: runtimes join it, admin changes are told to the other replicas. */
  cluster?: Cluster;
}

const shuttingDown = () =>
  new ProtocolError('SHUTTING_DOWN', 'the coordinator is stopping', { retryAfterMs: 1000 });

export class Coordinator {
  /** Lifecycle events (logged at info; streamed to the dashboard). */
  readonly events = new LifecycleEvents();
  private readonly runtimes: FederationRuntimes;
  private readonly connections: ConnectionRegistry;
  private readonly traffic: TrafficMeter;
  private readonly admissions: AdmissionBatcher;
  /** Database work started by connections (admissions) that close() waits for. */
  private readonly pending = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  constructor(private readonly o: CoordinatorOptions) {
    logLifecycle(this.events, o.log);
    this.runtimes = new FederationRuntimes(o.db, o.metrics, this.events, {
      cluster: o.cluster?.hooks,
      payloadRetentionVersions: o.payloadRetentionVersions,
      onRetentionError: (err, federationId) =>
        o.log.warn(
          { err, federationId },
          'pruning stored upload payloads failed (retried after the next publish)',
        ),
    });
    this.connections = new ConnectionRegistry(o.metrics);
    this.traffic = new TrafficMeter(o.db, o.log, o.trafficFlushMs);
    this.admissions = new AdmissionBatcher(o.db);
  }

  /** The runtime of a federation, recovered from the database on first use. */
  runtime(federation: FederationRecord): Promise<FederationRuntime> {
    return this.runtimes.get(federation);
  }

  /** The federation as the live side sees it (settings resolved), deleted ones included. */
  federationRecord(id: string): Promise<FederationRecord | null> {
    return this.o.db.getFederation(id);
  }

  /** Runtimes already loaded (for the admin API's live view). */
  loadedRuntime(federationId: string): Promise<FederationRuntime> | undefined {
    return this.runtimes.loaded(federationId);
  }

  /**
   * The runtime the admin API reads live state from. On a cluster replica a federation none
   * of whose participants is connected here is loaded on demand (as a follower), so every
   * replica answers with the same round and online count; single-process, only loaded ones.
   */
  async liveRuntime(federationId: string): Promise<FederationRuntime | undefined> {
    const loaded = this.runtimes.loaded(federationId);
    if (loaded || !this.o.cluster) return loaded;
    const record = await this.federationRecord(federationId);
    return record && record.status !== 'deleted' ? this.runtime(record) : undefined;
  }

  isOnline(participantId: string): boolean {
    return this.connections.isOnline(participantId);
  }

  /** Registers an open socket (admitted or not) until it ends. */
  track(conn: ParticipantConnection): void {
    this.connections.track(conn);
  }

  admit(hello: HelloInit): Promise<Admission | ProtocolError> {
    if (this.closing) return Promise.resolve(shuttingDown());
    const p = admit(hello, { db: this.admissions, runtime: (f) => this.runtimes.get(f) });
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  register(
    participantId: string,
    conn: ParticipantConnection,
    federationId: string,
  ): ParticipantConnection | undefined {
    const replaced = this.connections.register(participantId, conn, federationId);
    if (replaced) this.events.emit({ type: 'participant-replaced', federationId, participantId });
    else
      this.events.emit({
        type: 'participant-joined',
        federationId,
        participantId,
        online: this.connections.onlineIn(federationId),
      });
    return replaced;
  }

  unregister(participantId: string, conn: ParticipantConnection, federationId: string): void {
    if (this.connections.unregister(participantId, conn, federationId))
      this.events.emit({
        type: 'participant-left',
        federationId,
        participantId,
        online: this.connections.onlineIn(federationId),
      });
    // Last seen = now, written with the next batched traffic flush (which sets lastSeenAt),
    // not as a write of its own: thousands of disconnects must not cost one commit each.
    this.traffic.count(participantId, 0, 0);
  }

  countTraffic(participantId: string, bytesIn: number, bytesOut: number): void {
    this.traffic.count(participantId, bytesIn, bytesOut);
  }

  /** Writes pending traffic counters; called on a timer, by the admin API before reading them, and at shutdown. */
  flushTraffic(): Promise<void> {
    return this.traffic.flush();
  }

  /** Applies an operator's change (pause, resume, delete, settings), here and on every other replica. */
  async federationChanged(federation: FederationRecord): Promise<void> {
    this.o.cluster?.federationChanged(federation.id);
    await this.applyFederationChange(federation);
  }

  /** Applies an operator's change to this replica's runtime of the federation. */
  async applyFederationChange(federation: FederationRecord): Promise<void> {
    const r = this.runtimes.loaded(federation.id);
    if (!r) return;
    const rt = await r;
    const online = (id: string) => rt.isOnline(id);
    if (federation.status === 'deleted') {
      rt.close();
      this.runtimes.forget(federation.id);
      this.connections.terminate(
        online,
        new ProtocolError('FEDERATION_NOT_FOUND', 'the federation was deleted'),
      );
      return;
    }
    rt.setPaused(federation.status === 'paused');
    if (federation.status === 'paused') {
      this.connections.terminate(
        online,
        new ProtocolError('FEDERATION_PAUSED', 'the operator paused the federation', {
          retryAfterMs: 30_000,
        }),
      );
    }
  }

  /** Disconnects participants whose tokens were revoked, on whichever replica they are. */
  disconnect(participantIds: Iterable<string>, err: ProtocolError): void {
    const ids = [...participantIds];
    this.o.cluster?.disconnect(ids, err);
    this.disconnectLocal(ids, err);
  }

  disconnectLocal(participantIds: Iterable<string>, err: ProtocolError): void {
    this.connections.disconnect(participantIds, err);
  }

  /**
   * Graceful stop: every socket is told SHUTTING_DOWN and closed with 1001; then the
   * writes they caused (admissions, last seen, traffic) and the runtimes' queued work
   * finish, so nothing touches the database after this resolves. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.traffic.stop();
    await this.connections.closeAll(shuttingDown());
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.runtimes.closeAll();
    await this.traffic.flush();
  }
}
