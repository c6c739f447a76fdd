/**
 * The replicas' connection to NATS: core subjects for what crosses between replicas
 * (bus-codec.ts), and a JetStream key-value bucket for the federation leases. Counts the
 * bytes it publishes (what a submission costs the bus, see docs/scaling.md).
 */
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

export class NatsBus {
  /** Bytes published by this replica (payload only, as NATS counts it). */
  bytesOut = 0;
  bytesIn = 0;
  private connected = true;
  private readonly reconnected: (() => void)[] = [];

  private constructor(
    private readonly nc: NatsConnection,
    private readonly onError: (err: unknown, where: string) => void,
  ) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'staleConnection') this.connected = false;
        if (s.type === 'reconnect') {
          this.connected = true;
          for (const fn of this.reconnected) fn();
        }
      }
    })().catch(() => undefined);
  }

  static async connect(url: string, name: string, onError: NatsBus['onError']): Promise<NatsBus> {
    const nc = await connect({
      servers: url.split(',').map((s) => s.trim().replace(/^nats:\/\//, '')),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    return new NatsBus(nc, onError);
  }

  /**
   * Core subjects deliver at most once: what was published while this connection was down
   * is gone. `fn` runs after each reconnect, to resynchronise from the database.
   */
  onReconnect(fn: () => void): void {
    this.reconnected.push(fn);
  }

  /** Drops and re-establishes the connection (tests; what a NATS server restart does). */
  forceReconnect(): Promise<void> {
    return this.nc.reconnect();
  }

  /** Connected to NATS now (readiness). */
  get ready(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  publish(subject: string, data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.bytesOut += bytes.byteLength;
    try {
      this.nc.publish(subject, bytes);
    } catch (err) {
      this.onError(err, `publish ${subject}`);
    }
  }

  /** Calls `handler` for each message; a handler that throws is logged, never fatal. */
  subscribe(subject: string, handler: (data: Uint8Array) => void): Subscription {
    return this.consume(subject, (m) => handler(m.data));
  }

  /** Answers requests on `subject` with what `handler` returns (a handler that throws sends no answer). */
  serve(subject: string, handler: (data: Uint8Array) => Uint8Array | string): Subscription {
    return this.consume(subject, (m) => {
      const out = handler(m.data);
      const bytes = typeof out === 'string' ? new TextEncoder().encode(out) : out;
      this.bytesOut += bytes.byteLength;
      m.respond(bytes);
    });
  }

  private consume(subject: string, handle: (m: Msg) => void): Subscription {
    const sub = this.nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) {
        this.bytesIn += m.data.byteLength;
        try {
          handle(m);
        } catch (err) {
          this.onError(err, `message on ${subject}`);
        }
      }
    })();
    return sub;
  }

  /** One request, answered by whichever replica serves `subject`; rejects after `timeoutMs`. */
  async request(subject: string, data: string, timeoutMs: number): Promise<Uint8Array> {
    const bytes = new TextEncoder().encode(data);
    this.bytesOut += bytes.byteLength;
    const m = await this.nc.request(subject, bytes, { timeout: timeoutMs });
    this.bytesIn += m.data.byteLength;
    return m.data;
  }

  /** The leases bucket: an entry lives `ttlMs` after its last write (JetStream KV, max age). */
  async leases(bucket: string, ttlMs: number): Promise<KV> {
    return new Kvm(this.nc).create(bucket, { ttl: ttlMs, history: 1 });
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}
