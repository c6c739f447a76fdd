/**
 * Test support: a scriptable coordinator over the in-process transport. It decodes and
 * encodes real protobuf envelopes, so a session under test exercises the same bytes it
 * sends to a real coordinator; the test decides every reply. Messages received are queued
 * per body type and taken with `next(body)`, which waits (no sleeping) until one arrives.
 *
 * Not part of the session barrel: import it from this path in tests (client-node's too).
 */
import {
  type BodyName,
  type DecodedEnvelope,
  decodeFrame,
  type EnvelopeInit,
  encodeEnvelope,
  encodePublicSet,
  type WelcomeInit,
} from '@mutua/proto';
import { createMemoryTransport, type MemoryConnection, type Transport } from './transport.ts';

export interface Received {
  conn: MemoryConnection;
  env: DecodedEnvelope;
  body: BodyName;
}

type Body = Omit<EnvelopeInit, 'seq' | 'replyTo'>;

export class FakeCoordinator {
  readonly transport: Transport;
  readonly connections: MemoryConnection[] = [];
  readonly closes: Array<{ conn: MemoryConnection; code: number; reason: string }> = [];
  /** When set, connect() is refused with this error (an unreachable coordinator). */
  refuse: Error | null = null;
  bytesIn = 0;
  bytesOut = 0;
  private readonly seqs = new Map<MemoryConnection, number>();
  private readonly queue: Received[] = [];
  private readonly waiters: Array<{ body: BodyName; resolve: (r: Received) => void }> = [];

  constructor() {
    this.transport = createMemoryTransport((conn) => this.accept(conn));
  }

  /** The newest connection. */
  get conn(): MemoryConnection {
    const c = this.connections.at(-1);
    if (!c) throw new Error('FakeCoordinator: no connection yet');
    return c;
  }

  /** The next unconsumed message with this body, waiting for one if needed. */
  next(body: BodyName): Promise<Received> {
    const i = this.queue.findIndex((r) => r.body === body);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ body, resolve }));
  }

  /** Messages received and not taken with next(), optionally of one body type. */
  pending(body?: BodyName): Received[] {
    return this.queue.filter((r) => body === undefined || r.body === body);
  }

  /** Sends an envelope; returns its seq. */
  send(conn: MemoryConnection, body: Body, replyTo = 0): number {
    const seq = (this.seqs.get(conn) ?? 0) + 1;
    this.seqs.set(conn, seq);
    const frame = encodeEnvelope({ ...body, seq, replyTo });
    this.bytesOut += frame.byteLength;
    conn.send(frame);
    return seq;
  }

  private accept(conn: MemoryConnection): void {
    if (this.refuse) throw this.refuse;
    this.connections.push(conn);
    conn.onMessage((bytes) => {
      this.bytesIn += bytes.byteLength;
      const decoded = decodeFrame(bytes, { maxFrameBytes: 2 ** 26 });
      if (!decoded.ok) throw decoded.error;
      const received = { conn, env: decoded.envelope, body: decoded.body };
      const w = this.waiters.findIndex((x) => x.body === decoded.body);
      if (w >= 0) this.waiters.splice(w, 1)[0]!.resolve(received);
      else this.queue.push(received);
    });
    conn.onClose((code, reason) => this.closes.push({ conn, code, reason }));
  }
}

export interface FakePublicSet {
  bytes: Uint8Array;
  sha256: string;
  sampleCount: number;
  shape: number[];
  /** The decoded values, sample-major. */
  x: Float32Array;
}

/** A float32 public set of `sampleCount` samples of `shape`, value i*0.01 at flat position i. */
export async function createFakePublicSet(sampleCount: number, shape: number[]): Promise<FakePublicSet> {
  const n = sampleCount * shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, (_, i) => i * 0.01);
  const bytes = encodePublicSet({ x, sampleCount, shape, dtype: 'float32' });
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return { bytes, sha256, sampleCount, shape, x };
}

export interface FakeWelcomeOptions {
  publicSet?: FakePublicSet | null;
  numClasses?: number;
  inputShape?: number[];
  /** Wire enum values. */
  strategy?: number;
  mode?: number;
  encodings?: number[];
  uploadEncoding?: number;
  topk?: number;
  resumeToken?: string;
  resumed?: boolean;
  currentRound?: number;
  heartbeatIntervalMs?: number;
  maxFrameBytes?: number;
  /** Welcome.payload_delta (and federation.delta_threshold). */
  payloadDelta?: boolean;
  deltaThreshold?: number;
  /** Welcome.derived_indices. */
  derivedIndices?: boolean;
}

/** A Welcome for a mutual, sync federation with T = 2, lambda = 0.5, uint8 uploads (override any of it). */
export function fakeWelcome(o: FakeWelcomeOptions = {}): WelcomeInit {
  const set = o.publicSet;
  const encodings = o.encodings ?? [3];
  return {
    participantId: 'participant-1',
    resumeToken: o.resumeToken ?? 'resume-1',
    resumed: o.resumed ?? false,
    federation: {
      federationId: 'fed-1',
      name: 'test federation',
      task: { inputShape: o.inputShape ?? set?.shape ?? [4], numClasses: o.numClasses ?? 3 },
      strategy: o.strategy ?? 1,
      mode: o.mode ?? 1,
      temperature: 2,
      lambda: 0.5,
      aggregation: 1,
      batchSize: 4,
      encodings,
      topk: o.topk ?? 2,
      localEpochs: 1,
      seed: 7,
      delta: o.payloadDelta ?? false,
      deltaThreshold: o.deltaThreshold ?? 0,
    },
    publicSet: set
      ? {
          id: set.sha256,
          sha256: Uint8Array.from(set.sha256.match(/../g)!, (h) => Number.parseInt(h, 16)),
          sampleCount: set.sampleCount,
          shape: set.shape,
          byteLength: set.bytes.byteLength,
          url: `/v1/public-sets/${set.sha256}`,
          format: 'mutua-public-v1',
        }
      : null,
    uploadEncoding: o.uploadEncoding ?? encodings[0],
    downloadEncoding: 3,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 0,
    maxFrameBytes: o.maxFrameBytes ?? 2 ** 20,
    currentRound: o.currentRound ?? 0,
    payloadDelta: o.payloadDelta ?? false,
    derivedIndices: o.derivedIndices ?? false,
  };
}
