/**
 * One FederationRuntime per active federation, created and recovered from the database on
 * first use, with its events counted in the metrics.
 */
import { decodePredictions, decodeWeights, type WeightEncoding, weightCountOf } from '@mutua/proto';
import type { RuntimeClusterHooks } from '../cluster/cluster.ts';
import type { FederationRecord, LiveStore, StoredSubmission } from '../db/store.ts';
import { FederationRuntime } from '../engine/federation-runtime.ts';
import { DEFAULT_PAYLOAD_RETENTION_VERSIONS, PayloadRetention } from '../engine/payload-retention.ts';
import { testHoldFromEnv } from '../engine/test-hold.ts';
import type { CoordinatorMetrics } from '../metrics-registry.ts';
import type { LifecycleEvents } from './lifecycle-events.ts';

export class FederationRuntimes {
  private readonly byFederation = new Map<string, Promise<FederationRuntime>>();

  private readonly retention: PayloadRetention;
  /** Set on a cluster replica (cluster/cluster.ts). */
  private readonly cluster: RuntimeClusterHooks | undefined;

  constructor(
    private readonly db: LiveStore,
    private readonly metrics: CoordinatorMetrics,
    private readonly events: LifecycleEvents,
    options: {
      /** See engine/payload-retention.ts. */
      payloadRetentionVersions?: number;
      onRetentionError?: (error: unknown, federationId: string) => void;
      /** Set on a cluster replica (cluster/cluster.ts). */
      cluster?: RuntimeClusterHooks;
    } = {},
  ) {
    this.cluster = options.cluster;
    this.retention = new PayloadRetention(
      db,
      options.payloadRetentionVersions ?? DEFAULT_PAYLOAD_RETENTION_VERSIONS,
      options.onRetentionError ?? (() => {}),
    );
  }

  /** The runtime of a federation, recovered from the database on first use. */
  get(federation: FederationRecord): Promise<FederationRuntime> {
    let r = this.byFederation.get(federation.id);
    if (!r) {
      r = this.start(federation);
      r.catch(() => this.byFederation.delete(federation.id));
      this.byFederation.set(federation.id, r);
    }
    return r;
  }

  /** The runtime if it is loaded already (for the admin API's live view). */
  loaded(federationId: string): Promise<FederationRuntime> | undefined {
    return this.byFederation.get(federationId);
  }

  forget(federationId: string): void {
    this.byFederation.delete(federationId);
  }

  /** Waits for each loaded runtime's queued work, then closes it. */
  async closeAll(): Promise<void> {
    for (const r of this.byFederation.values()) {
      const rt = await r.catch(() => null);
      if (!rt) continue;
      await rt.idle();
      rt.close();
    }
    await this.retention.idle();
  }

  private async start(federation: FederationRecord): Promise<FederationRuntime> {
    const m = this.metrics;
    const rt = new FederationRuntime({
      federationId: federation.id,
      settings: federation.settings,
      publicSetSize: federation.publicSet.sampleCount,
      store: this.db,
      decodeStored: (s) => decodeStored(s, federation),
      paused: federation.status === 'paused',
      testHold: testHoldFromEnv(federation.name),
      cluster: this.cluster?.port(federation.id),
      onEvent: (e) => {
        if (e.type === 'round-opened') {
          m.roundsOpened.inc({ federation: e.federationId });
          this.events.emit({ type: 'round-opened', federationId: e.federationId, round: e.version });
        }
        if (e.type === 'round-closed') {
          m.roundsClosed.inc({ federation: e.federationId, reason: e.reason });
          m.aggregationSeconds.observe(e.aggregationMs / 1000);
          this.retention.afterPublish(e.federationId, e.version, rt.keepVersions);
          const { version, ...rest } = e;
          this.events.emit({ ...rest, round: version });
        }
        if (e.type === 'waiting') {
          const { type: _, ...rest } = e;
          this.events.emit({ type: 'waiting-for-participants', ...rest });
        }
      },
    });
    // Listening before loading: nothing the owner announces meanwhile is missed.
    this.cluster?.attached(federation.id, rt);
    await rt.recover();
    rt.setPaused(federation.status === 'paused');
    return rt;
  }
}

/** A stored upload back to numbers, as its federation's strategy reads it. */
function decodeStored(
  s: StoredSubmission,
  f: FederationRecord,
): { probs?: Float32Array; params?: Float32Array } {
  if (f.settings.strategy === 'fedavg') {
    // Weights rows store the weight encoding's name ('uint8' = the affine 8-bit layout).
    const enc = s.encoding as WeightEncoding;
    return { params: decodeWeights(s.payload, weightCountOf(s.payload, enc), enc) };
  }
  return { probs: decodePredictions(s.payload, s.rows, s.classes, s.encoding, { k: s.k }) };
}
