/**
 * This replica's membership of a coordinator cluster (docs/scaling.md): the NATS
 * connection, the directory of live replicas, the federation leases, one FederationLink
 * per loaded federation, and the admin changes every replica must apply (pause, resume,
 * delete, revoked participants). Created only when NATS_URL is set; without it the
 * coordinator is the single process it always was.
 */
import { hostname } from 'node:os';
import { type ErrorCodeName, ProtocolError } from '@mutua/proto';
import type { Coordinator } from '../coordinator.ts';
import type { FederationRuntime } from '../engine/federation-runtime.ts';
import { FederationLink } from './federation-link.ts';
import { LeaseManager } from './lease-manager.ts';
import { NatsBus } from './nats-bus.ts';
import { ReplicaDirectory } from './replica-directory.ts';

export interface ClusterOptions {
  natsUrl: string;
  replicaId?: string;
  leaseMs: number;
  /** Subject prefix and leases bucket (`<name>-leases`). */
  name: string;
  /** Federations ownership is spread over (not deleted). */
  federations(): Promise<string[]>;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
}

/** What FederationRuntimes asks of the cluster for each runtime it creates. */
export interface RuntimeClusterHooks {
  port(federationId: string): FederationLink;
  /** Before the runtime loads from the database. */
  attached(federationId: string, rt: FederationRuntime): void;
}

export class Cluster {
  readonly replicaId: string;
  private readonly links = new Map<string, FederationLink>();
  private readonly directory: ReplicaDirectory;
  private leases: LeaseManager | null = null;
  private coordinator: Coordinator | null = null;
  private readonly adminFederation: string;
  private readonly adminDisconnect: string;

  readonly hooks: RuntimeClusterHooks = {
    port: (id) => this.link(id),
    attached: (id, rt) => this.link(id).attach(rt),
  };

  private constructor(
    readonly bus: NatsBus,
    private readonly o: ClusterOptions,
    replicaId: string,
  ) {
    this.replicaId = replicaId;
    this.adminFederation = `${o.name}.admin.federation`;
    this.adminDisconnect = `${o.name}.admin.disconnect`;
    this.directory = new ReplicaDirectory(
      bus,
      `${o.name}.replicas.hb`,
      replicaId,
      () => this.leases?.count ?? 0,
      (gone) => {
        o.log.warn({ replica: gone }, 'replica gone');
        for (const l of this.links.values()) l.replicaGone(gone);
      },
      () => {
        const online: Record<string, number> = {};
        for (const id of this.owned()) {
          const n = this.links.get(id)?.onlineEverywhere();
          if (n !== undefined) online[id] = n;
        }
        return online;
      },
    );
  }

  static async connect(o: ClusterOptions): Promise<Cluster> {
    const id = o.replicaId ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    const bus = await NatsBus.connect(o.natsUrl, `mutua-${id}`, (err, where) =>
      o.log.warn({ err, where }, 'cluster bus error'),
    );
    return new Cluster(bus, o, id);
  }

  /** Connected to NATS (readiness; the database is checked by the route). */
  get ready(): boolean {
    return this.bus.ready;
  }

  /** Federations this replica owns now. */
  owned(): string[] {
    return this.leases?.ownedIds() ?? [];
  }

  /** Starts heartbeats and leases once the coordinator exists and its runtimes are loaded. */
  async start(coordinator: Coordinator): Promise<void> {
    this.coordinator = coordinator;
    const kv = await this.bus.leases(`${this.o.name}-leases`, this.o.leaseMs);
    this.directory.start();
    this.bus.onReconnect(() => {
      this.o.log.warn(
        { replica: this.replicaId },
        'cluster bus reconnected; resynchronising from the database',
      );
      for (const [id, l] of this.links)
        l.resync().catch((err) => this.o.log.warn({ err, federation: id }, 'resync failed'));
    });
    this.bus.subscribe(this.adminFederation, (data) => {
      const m = JSON.parse(new TextDecoder().decode(data)) as { id: string; r: string };
      if (m.r !== this.replicaId) void this.applyFederationChange(m.id);
    });
    this.bus.subscribe(this.adminDisconnect, (data) => {
      const m = JSON.parse(new TextDecoder().decode(data)) as {
        ids: string[];
        code: ErrorCodeName;
        message: string;
        r: string;
      };
      if (m.r !== this.replicaId) coordinator.disconnectLocal(m.ids, new ProtocolError(m.code, m.message));
    });
    this.leases = new LeaseManager(
      kv,
      this.directory,
      {
        federations: () => this.o.federations(),
        acquired: async (id) => {
          const record = await coordinator.federationRecord(id);
          if (!record || record.status === 'deleted') throw new Error(`federation ${id} is gone`);
          await coordinator.runtime(record);
          await this.link(id).becomeOwner();
          this.o.log.info({ federation: id, replica: this.replicaId }, 'owning federation');
        },
        released: async (id, why) => {
          this.o.log.info({ federation: id, replica: this.replicaId, why }, 'no longer owning federation');
          await this.links.get(id)?.stepDown();
        },
        revalidated: (id) => {
          this.o.log.warn(
            { federation: id, replica: this.replicaId },
            'lease confirmed late; deciding again',
          );
          this.links.get(id)?.revalidated();
        },
      },
      this.o.leaseMs,
      (msg, err) => this.o.log.warn({ err }, msg),
    );
    this.leases.start();
  }

  /** Tells the other replicas an operator changed a federation (they reload it from the database). */
  federationChanged(federationId: string): void {
    this.bus.publish(this.adminFederation, JSON.stringify({ id: federationId, r: this.replicaId }));
  }

  disconnect(ids: string[], err: ProtocolError): void {
    const m = { ids, code: err.code, message: err.message, r: this.replicaId };
    this.bus.publish(this.adminDisconnect, JSON.stringify(m));
  }

  /** Graceful stop: leases released (others take over at once), then the bus closes. */
  async stop(): Promise<void> {
    await this.leases?.stop();
    this.directory.stop();
    for (const l of this.links.values()) l.close();
    await this.bus.close();
  }

  private link(federationId: string): FederationLink {
    let l = this.links.get(federationId);
    if (!l) {
      l = new FederationLink(
        this.bus,
        `${this.o.name}`,
        federationId,
        this.replicaId,
        () => (this.leases ? this.leases.owns(federationId) : false),
        () => this.directory.onlineReported(federationId),
      );
      this.links.set(federationId, l);
    }
    return l;
  }

  private async applyFederationChange(id: string): Promise<void> {
    const c = this.coordinator;
    const record = c && (await c.federationRecord(id));
    if (!c || !record) return;
    await c.applyFederationChange(record);
    if (record.status === 'deleted') {
      this.links.get(id)?.close();
      this.links.delete(id);
    }
  }
}
