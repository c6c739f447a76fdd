/**
 * The live coordinator (`app.coordinator`), its Prometheus metrics (`app.metrics`) and, on
 * a cluster replica, its membership of the cluster (`app.cluster`, null otherwise):
 * recovers every active federation when the app is ready, and stops before the database
 * closes.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Cluster } from '../cluster/cluster.ts';
import { Coordinator } from '../coordinator.ts';
import { CoordinatorMetrics } from '../metrics-registry.ts';

declare module 'fastify' {
  interface FastifyInstance {
    coordinator: Coordinator;
    metrics: CoordinatorMetrics;
    cluster: Cluster | null;
  }
}

export interface CoordinatorPluginOptions {
  maxFrameBytes: number;
  heartbeatIntervalMs: number;
  payloadRetentionVersions?: number | undefined;
  /** Run as one replica of a cluster (docs/scaling.md). */
  cluster?: { natsUrl: string; replicaId?: string; leaseMs: number; name: string };
}

export default fp(
  async (app: FastifyInstance, opts: CoordinatorPluginOptions) => {
    // The NATS client is loaded only by a replica: a single coordinator never compiles it
    // (about 40 ms of its start, npm run bench:start).
    const cluster = opts.cluster
      ? await (await import('../cluster/cluster.ts')).Cluster.connect({
          ...opts.cluster,
          log: app.log,
          federations: async () =>
            (await app.db.federations.list()).filter((f) => f.status !== 'deleted').map((f) => f.id),
        })
      : null;
    const metrics = new CoordinatorMetrics(cluster ? { replica: cluster.replicaId } : {});
    if (cluster) metrics.busBytes = () => cluster.bus.bytesOut;
    const coordinator = new Coordinator({
      db: app.db.live,
      metrics,
      log: app.log,
      maxFrameBytes: opts.maxFrameBytes,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      payloadRetentionVersions: opts.payloadRetentionVersions,
      cluster: cluster ?? undefined,
    });
    app.decorate('metrics', metrics);
    app.decorate('coordinator', coordinator);
    app.decorate('cluster', cluster);
    // preClose runs before every onClose hook: participants are told SHUTTING_DOWN and the
    // writes they caused finish while the database is still open. close() is idempotent.
    app.addHook('preClose', () => coordinator.close());
    // A replica hands its leases over once its runtimes are idle; the database closes after.
    if (cluster) app.addHook('onClose', () => cluster.stop());
    // Recover every active federation at start, not when its first participant returns:
    // a sync round's deadline must keep running after a restart.
    app.addHook('onReady', async () => {
      for (const f of await app.db.federations.list({ status: 'active' })) {
        const record = await coordinator.federationRecord(f.id);
        if (record) await coordinator.runtime(record);
      }
      await cluster?.start(coordinator);
    });
  },
  { name: 'mutua-coordinator', dependencies: ['mutua-database'] },
);
