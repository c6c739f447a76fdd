/**
 * The live coordinator (`app.coordinator`) and its Prometheus metrics (`app.metrics`):
 * recovers every active federation when the app is ready, and stops before the database
 * closes.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Coordinator } from '../coordinator.ts';
import { CoordinatorMetrics } from '../metrics-registry.ts';

declare module 'fastify' {
  interface FastifyInstance {
    coordinator: Coordinator;
    metrics: CoordinatorMetrics;
  }
}

export interface CoordinatorPluginOptions {
  maxFrameBytes: number;
  heartbeatIntervalMs: number;
  payloadRetentionVersions?: number | undefined;
}

export default fp(
  async (app: FastifyInstance, opts: CoordinatorPluginOptions) => {
    const metrics = new CoordinatorMetrics();
    const coordinator = new Coordinator({
      db: app.db.live,
      metrics,
      log: app.log,
      maxFrameBytes: opts.maxFrameBytes,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      payloadRetentionVersions: opts.payloadRetentionVersions,
    });
    app.decorate('metrics', metrics);
    app.decorate('coordinator', coordinator);
    // preClose runs before every onClose hook: participants are told SHUTTING_DOWN and the
    // writes they caused finish while the database is still open. close() is idempotent.
    app.addHook('preClose', () => coordinator.close());
    // Recover every active federation at start, not when its first participant returns:
    // a sync round's deadline must keep running after a restart.
    app.addHook('onReady', async () => {
      for (const f of await app.db.federations.list({ status: 'active' })) {
        const record = await coordinator.federationRecord(f.id);
        if (record) await coordinator.runtime(record);
      }
    });
  },
  { name: 'mutua-coordinator', dependencies: ['mutua-database'] },
);
