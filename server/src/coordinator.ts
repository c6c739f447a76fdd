/**
 * The live side of the coordinator: one FederationRuntime per active federation,
 * participant admission (join and resume tokens), the registry of connections, and
 * batched persistence of traffic counters. Owned by the `coordinator` plugin.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  aggregationValue,
  decodePredictions,
  decodeWeights,
  type EnvelopeInit,
  encodingValue,
  type HelloInit,
  modeValue,
  negotiateEncoding,
  ProtocolError,
  strategyValue,
  validateHello,
} from '@mutua/proto';
import type { FastifyBaseLogger } from 'fastify';
import type { CoordinatorDb, FederationRecord } from './coordinator-db.ts';
import { FederationRuntime } from './engine/federation-runtime.ts';
import type { StoredSubmission } from './engine/runtime-store.ts';
import type { EncodingName } from './engine/settings.ts';
import { testHoldFromEnv } from './engine/test-hold.ts';
import type { CoordinatorMetrics } from './metrics-registry.ts';
import type { Admission, ParticipantConnection } from './ws/participant-connection.ts';

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

export interface CoordinatorOptions {
  db: CoordinatorDb;
  metrics: CoordinatorMetrics;
  log: FastifyBaseLogger;
  maxFrameBytes: number;
  heartbeatIntervalMs: number;
  /** Traffic counters are written at most this often (they are also flushed at shutdown). */
  trafficFlushMs?: number;
}

export class Coordinator {
  private readonly runtimes = new Map<string, Promise<FederationRuntime>>();
  private readonly connections = new Map<string, ParticipantConnection>();
  /** Every open socket, admitted or not, so shutdown can tell each one. */
  private readonly sockets = new Set<ParticipantConnection>();
  /** Database work started by connections (admissions, last-seen updates) that close() waits for. */
  private readonly pending = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;
  private readonly traffic = new Map<string, { in: number; out: number }>();
  private readonly flushTimer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly o: CoordinatorOptions) {
    this.flushTimer = setInterval(() => void this.flushTraffic(), o.trafficFlushMs ?? 1000);
    this.flushTimer.unref?.();
  }

  /** The runtime of a federation, recovered from the database on first use. */
  runtime(federation: FederationRecord): Promise<FederationRuntime> {
    let r = this.runtimes.get(federation.id);
    if (!r) {
      r = (async () => {
        const rt = new FederationRuntime({
          federationId: federation.id,
          settings: federation.settings,
          publicSetSize: federation.publicSet.sampleCount,
          store: this.o.db,
          decodeStored: (s) => decodeStored(s, federation),
          paused: federation.status === 'paused',
          testHold: testHoldFromEnv(federation.name),
          onEvent: (e) => {
            const m = this.o.metrics;
            if (e.type === 'round-opened') m.roundsOpened.inc({ federation: e.federationId });
            if (e.type === 'round-closed') {
              m.roundsClosed.inc({ federation: e.federationId, reason: e.reason });
              m.aggregationSeconds.observe(e.aggregationMs / 1000);
            }
          },
        });
        await rt.recover();
        rt.setPaused(federation.status === 'paused');
        return rt;
      })();
      r.catch(() => this.runtimes.delete(federation.id));
      this.runtimes.set(federation.id, r);
    }
    return r;
  }

  /** The federation as the live side sees it (settings resolved), deleted ones included. */
  federationRecord(id: string): Promise<FederationRecord | null> {
    return this.o.db.getFederation(id);
  }

  /** Runtimes already loaded (for the admin API's live view). */
  loadedRuntime(federationId: string): Promise<FederationRuntime> | undefined {
    return this.runtimes.get(federationId);
  }

  isOnline(participantId: string): boolean {
    return this.connections.has(participantId);
  }

  /** Registers an open socket (admitted or not) until it ends. */
  track(conn: ParticipantConnection): void {
    this.sockets.add(conn);
    void conn.ended.then(() => this.sockets.delete(conn));
  }

  admit(hello: HelloInit): Promise<Admission | ProtocolError> {
    if (this.closing) {
      return Promise.resolve(
        new ProtocolError('SHUTTING_DOWN', 'the coordinator is stopping', { retryAfterMs: 1000 }),
      );
    }
    return this.tracked(this.admitNow(hello));
  }

  private tracked<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  private async admitNow(hello: HelloInit): Promise<Admission | ProtocolError> {
    const valid = validateHello(hello);
    if (!valid.ok) return valid.error;
    const { db } = this.o;
    let participant: { id: string; federationId: string } | null;
    let resumeToken: string;
    let resumed = false;
    let federation: FederationRecord | null;
    let joinTokenId: string | null = null;
    let tokenMaxUses: number | null = null;
    if (hello.resumeToken) {
      const p = await db.findParticipantByResumeHash(sha256Hex(hello.resumeToken));
      if (!p) return new ProtocolError('BAD_TOKEN', 'unknown resume token; join again with a join token');
      if (p.revoked)
        return new ProtocolError('TOKEN_REVOKED', 'this participant was removed by the operator');
      federation = await db.getFederation(p.federationId);
      participant = p;
      resumeToken = hello.resumeToken;
      resumed = true;
    } else {
      const t = await db.findJoinToken(sha256Hex(hello.joinToken ?? ''));
      if (!t) return new ProtocolError('BAD_TOKEN', 'unknown join token');
      if (t.revoked) return new ProtocolError('TOKEN_REVOKED', 'this join token was revoked');
      federation = await db.getFederation(t.federationId);
      participant = null;
      joinTokenId = t.id;
      tokenMaxUses = t.maxUses;
      resumeToken = randomBytes(24).toString('base64url');
    }
    if (!federation || federation.status === 'deleted') {
      return new ProtocolError('FEDERATION_NOT_FOUND', 'the federation of this token no longer exists');
    }
    // Every refusal comes before a new participant is registered: a client retrying with
    // backoff while a federation is paused (or with the wrong model) must not fill it up.
    if (federation.status === 'paused') {
      return new ProtocolError('FEDERATION_PAUSED', 'the federation is paused', { retryAfterMs: 30_000 });
    }
    const mismatch = checkModel(hello, federation);
    if (mismatch) return mismatch;
    const supported = valid.value.encodings;
    const upload = negotiateEncoding(federation.settings.encodings, supported);
    if (!upload) {
      return new ProtocolError(
        'ENCODING_NOT_ALLOWED',
        `the federation accepts ${federation.settings.encodings.join(', ')}; the participant supports ${supported.join(', ') || 'none'}`,
        { fatal: true },
      );
    }
    if (!participant) {
      // Count and insert in one transaction (db-coordinator-store.ts): concurrent joins cannot overshoot.
      const created = await db.createParticipant({
        federationId: federation.id,
        joinTokenId: joinTokenId!,
        name: hello.name || 'participant',
        kind: kindName(hello.kind ?? 0),
        modelArch: hello.modelArch ?? '',
        resumeTokenHash: sha256Hex(resumeToken),
        limit: federation.settings.participantLimit,
        tokenMaxUses,
      });
      if (created === 'used-up') {
        return new ProtocolError('BAD_TOKEN', `this join token was already used ${tokenMaxUses} times`, {
          detail: 'TOKEN_USED_UP',
        });
      }
      if (created === 'full') {
        return new ProtocolError(
          'FEDERATION_FULL',
          `the federation admits ${federation.settings.participantLimit} participants`,
          { retryAfterMs: 60_000 },
        );
      }
      participant = created;
    }
    // A participant created just now was last seen now already.
    if (resumed) await db.touchParticipant(participant.id, new Date());
    const runtime = await this.runtime(federation);
    return {
      participantId: participant.id,
      resumeToken,
      resumed,
      runtime,
      settings: federation.settings,
      uploadEncoding: upload,
      downloadEncoding: upload,
      welcome: welcomeFor(
        federation,
        participant.id,
        resumeToken,
        resumed,
        upload,
        runtime.currentVersion,
        this.o,
      ),
    };
  }

  register(
    participantId: string,
    conn: ParticipantConnection,
    federationId: string,
  ): ParticipantConnection | undefined {
    const old = this.connections.get(participantId);
    this.connections.set(participantId, conn);
    if (!old) this.o.metrics.participantsOnline.inc({ federation: federationId });
    return old;
  }

  unregister(participantId: string, conn: ParticipantConnection, federationId: string): void {
    if (this.connections.get(participantId) === conn) {
      this.connections.delete(participantId);
      this.o.metrics.participantsOnline.inc({ federation: federationId }, -1);
    }
    // Last seen = now, written with the next batched traffic flush (which sets lastSeenAt),
    // not as a write of its own: thousands of disconnects must not cost one commit each.
    this.countTraffic(participantId, 0, 0);
  }

  countTraffic(participantId: string, bytesIn: number, bytesOut: number): void {
    const t = this.traffic.get(participantId) ?? { in: 0, out: 0 };
    t.in += bytesIn;
    t.out += bytesOut;
    this.traffic.set(participantId, t);
  }

  /** Writes pending traffic counters; called on a timer, by the admin API before reading them, and at shutdown. */
  flushTraffic(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = [...this.traffic];
      this.traffic.clear();
      if (batch.length === 0) return;
      // One batched write for everyone: with thousands of connected participants, one
      // committed UPDATE each (an fsync each on SQLite) would take longer than the interval.
      try {
        await this.o.db.addTrafficMany(batch.map(([id, t]) => ({ id, bytesIn: t.in, bytesOut: t.out })));
      } catch (err) {
        this.o.log.warn({ err, participants: batch.length }, 'traffic counters not written; retrying');
        for (const [id, t] of batch) this.countTraffic(id, t.in, t.out);
      }
    });
    return this.flushing;
  }

  /** Applies an operator's change (pause, resume, delete, settings) to a live federation. */
  async federationChanged(federation: FederationRecord): Promise<void> {
    const r = this.runtimes.get(federation.id);
    if (!r) return;
    const rt = await r;
    if (federation.status === 'deleted') {
      rt.close();
      this.runtimes.delete(federation.id);
      for (const [id, conn] of this.connections) {
        if (rt.isOnline(id))
          conn.terminateWith(new ProtocolError('FEDERATION_NOT_FOUND', 'the federation was deleted'));
      }
      return;
    }
    rt.setPaused(federation.status === 'paused');
    if (federation.status === 'paused') {
      for (const [id, conn] of this.connections) {
        if (rt.isOnline(id)) {
          conn.terminateWith(
            new ProtocolError('FEDERATION_PAUSED', 'the operator paused the federation', {
              retryAfterMs: 30_000,
            }),
          );
        }
      }
    }
  }

  /** Disconnects participants whose tokens were revoked. */
  disconnect(participantIds: Iterable<string>, err: ProtocolError): void {
    for (const id of participantIds) this.connections.get(id)?.terminateWith(err);
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
    clearInterval(this.flushTimer);
    const err = new ProtocolError('SHUTTING_DOWN', 'the coordinator is stopping', { retryAfterMs: 1000 });
    const open = [...this.sockets];
    for (const conn of open) conn.terminateWith(err);
    // Peers answer the close handshake at once; a silent one is terminated after a few seconds.
    await Promise.all(open.map((c) => c.ended));
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    for (const r of this.runtimes.values()) {
      const rt = await r.catch(() => null);
      if (!rt) continue;
      await rt.idle();
      rt.close();
    }
    await this.flushTraffic();
  }
}

function checkModel(hello: HelloInit, f: FederationRecord): ProtocolError | null {
  const want = f.settings.task;
  const shape = hello.inputShape ?? [];
  // detail names the first thing that differs (PROTOCOL.md's detail table).
  const detail =
    shape.join('x') !== want.inputShape.join('x')
      ? 'INPUT_SHAPE'
      : hello.numClasses !== want.numClasses
        ? 'NUM_CLASSES'
        : null;
  if (detail) {
    return new ProtocolError(
      'MODEL_MISMATCH',
      `the federation's task is input ${want.inputShape.join('x')} with ${want.numClasses} classes; the participant has input ${shape.join('x')} with ${hello.numClasses} classes`,
      { detail },
    );
  }
  if (f.settings.strategy === 'fedavg' && hello.modelArch !== f.settings.modelArch) {
    return new ProtocolError(
      'MODEL_MISMATCH',
      `fedavg needs every participant to train ${f.settings.modelArch}, got ${hello.modelArch || 'none'}`,
      { detail: 'MODEL_ARCH' },
    );
  }
  return null;
}

function kindName(kind: number): string {
  return kind === 1 ? 'node' : kind === 2 ? 'browser' : 'other';
}

function welcomeFor(
  f: FederationRecord,
  participantId: string,
  resumeToken: string,
  resumed: boolean,
  encoding: EncodingName,
  currentRound: number,
  o: CoordinatorOptions,
): NonNullable<EnvelopeInit['welcome']> {
  const s = f.settings;
  return {
    participantId,
    resumeToken,
    resumed,
    federation: {
      federationId: f.id,
      name: f.name,
      task: { inputShape: s.task.inputShape, numClasses: s.task.numClasses, labelNames: s.task.labelNames },
      strategy: strategyValue(s.strategy),
      mode: modeValue(s.mode),
      temperature: s.temperature,
      lambda: s.lambda,
      aggregation: aggregationValue(s.aggregation),
      batchSize: s.batchSize,
      encodings: s.encodings.map((e) => encodingValue(e)),
      topk: s.topk,
      sync: s.sync,
      async: s.async,
      localEpochs: s.localEpochs,
      modelArch: s.modelArch,
      seed: s.seed,
    },
    publicSet: {
      id: f.publicSet.sha256,
      sha256: Buffer.from(f.publicSet.sha256, 'hex'),
      sampleCount: f.publicSet.sampleCount,
      shape: f.publicSet.shape,
      byteLength: f.publicSet.byteLength,
      url: `/v1/public-sets/${f.publicSet.sha256}`,
      format: 'mutua-public-v1',
    },
    uploadEncoding: encodingValue(encoding),
    downloadEncoding: encodingValue(encoding),
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    maxFrameBytes: o.maxFrameBytes,
    currentRound,
  };
}

function decodeStored(
  s: StoredSubmission,
  f: FederationRecord,
): { probs?: Float32Array; params?: Float32Array } {
  if (f.settings.strategy === 'fedavg') {
    return {
      params: decodeWeights(
        s.payload,
        s.payload.byteLength / (s.encoding === 'float16' ? 2 : 4),
        s.encoding as 'float32' | 'float16',
      ),
    };
  }
  return { probs: decodePredictions(s.payload, s.rows, s.classes, s.encoding, { k: s.k }) };
}
