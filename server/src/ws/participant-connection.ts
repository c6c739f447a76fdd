/**
 * One participant's WebSocket, as an explicit state machine:
 *
 *   AWAIT_HELLO --Hello ok--> ACTIVE --Leave/close/fatal error--> CLOSED
 *
 * Every inbound frame is size-checked, rate-limited and decoded by the protocol codec;
 * anything wrong is answered with a coded Error (fatal ones close with their close
 * code). Accepted submissions are acknowledged only after the runtime made them durable.
 * Bytes in and out are counted per participant.
 */

import {
  type DecodedEnvelope,
  decodeFrame,
  type EnvelopeInit,
  encodeEnvelope,
  errorEnvelope,
  type HelloInit,
  ProtocolError,
  validateMetrics,
} from '@mutua/proto';
import type { WebSocket } from 'ws';
import { RuntimeError, type SessionPort, type TaskView } from '../engine/runtime-types.ts';
import type { Admission, ConnectionDeps } from './connection-types.ts';
import { pendingRestore, restoreUploads } from './delta-payloads.ts';
import { checkMetricsRound } from './message-bounds.ts';
import { DEFAULT_HELLO_TIMEOUT_MS, PRE_AUTH_MAX_FRAME_BYTES, PreAuthGuard } from './pre-auth-guard.ts';
import { TokenBucket } from './rate-limiter.ts';
import { TickCork } from './socket-cork.ts';
import { metricsRecord, predictionSubmission, weightsSubmission } from './upload-mapping.ts';
import { welcomeFor } from './welcome.ts';
import { encodeTaskEnvelope } from './wire-mapping.ts';

export type { Admission, ConnectionDeps };

type State = 'await-hello' | 'admitting' | 'active' | 'closed';

/** Rejected messages tolerated per window before a flooding peer is disconnected. */
const FLOOD_STRIKES = 20;

export class ParticipantConnection implements SessionPort {
  private state: State = 'await-hello';
  private seq = 0;
  private admission: Admission | null = null;
  private readonly bucket: TokenBucket;
  private readonly cork: TickCork;
  private strikes = 0;
  private alive = true;
  private heartbeat: NodeJS.Timeout | null = null;
  private pendingIn = 0;
  private pendingOut = 0;
  private readonly guard: PreAuthGuard;
  private markEnded!: () => void;
  /** Resolves once the socket is closed and the runtime and registry were told. */
  readonly ended = new Promise<void>((resolve) => {
    this.markEnded = resolve;
  });

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: ConnectionDeps,
  ) {
    this.cork = new TickCork(ws);
    this.bucket = new TokenBucket(deps.maxMessagesPerSecond, deps.maxMessagesPerSecond * 2);
    const helloTimeoutMs = deps.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    this.guard = new PreAuthGuard(ws, helloTimeoutMs, () =>
      this.terminateWith(
        new ProtocolError('NOT_AUTHENTICATED', `no Hello was admitted within ${helloTimeoutMs} ms`, {
          detail: 'HELLO_TIMEOUT',
        }),
      ),
    );
    deps.metrics.connections.inc();
    ws.on('message', (data, isBinary) => this.onFrame(data as Buffer | ArrayBuffer | Buffer[], isBinary));
    ws.on('close', () => this.onClose());
    ws.on('error', (err) => deps.log.debug({ err }, 'websocket error'));
    ws.on('pong', () => {
      this.alive = true;
    });
    this.heartbeat = setInterval(() => this.beat(), deps.heartbeatIntervalMs);
    this.heartbeat.unref?.();
  }

  get participantId(): string {
    return this.admission?.participantId ?? '';
  }

  get activeRows(): number {
    return this.admission?.activeRows ?? 0;
  }

  // ----------------------------------------------------------- SessionPort (runtime -> peer)

  sendTask(task: TaskView): void {
    const a = this.admission;
    if (!a || this.state === 'closed' || this.ws.readyState !== this.ws.OPEN) return;
    // Encoded once per TaskView, not once per participant (a version's Task goes to many).
    this.sendBytes(
      encodeTaskEnvelope(
        task,
        a.settings,
        a.downloadEncoding,
        ++this.seq,
        0,
        a.weightEncoding,
        a.compression,
        a.delta,
        a.batchRule,
      ),
    );
  }

  sendRoundClosed(info: { round: number; submissions: number; reason: string }): void {
    this.send({ roundClosed: info });
  }

  /** Ends the connection with a coded error (e.g. REPLACED, SHUTTING_DOWN). */
  terminateWith(err: ProtocolError): void {
    this.sendError(err, 0);
    this.close(err.closeCode, err.code);
  }

  // ----------------------------------------------------------- inbound

  private onFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.state === 'closed') return;
    const size = Array.isArray(data) ? data.reduce((a, b) => a + b.length, 0) : data.byteLength;
    this.deps.metrics.bytesIn.inc({}, size);
    this.pendingIn += size;
    // Before Welcome only a Hello may arrive: anything larger is refused without decoding.
    if (this.state !== 'active' && size > PRE_AUTH_MAX_FRAME_BYTES) {
      this.reject(
        new ProtocolError(
          'FRAME_TOO_LARGE',
          `a frame before Welcome may hold at most ${PRE_AUTH_MAX_FRAME_BYTES} bytes, got ${size}`,
          { detail: 'PRE_AUTH' },
        ),
        0,
      );
      return;
    }
    const wait = this.bucket.take();
    if (wait > 0) {
      this.reject(
        new ProtocolError('RATE_LIMITED', `more than ${this.deps.maxMessagesPerSecond} messages per second`, {
          retryAfterMs: wait,
        }),
        0,
      );
      return;
    }
    const decoded = decodeFrame(data, { maxFrameBytes: this.guard.maxFrameBytes, isBinary });
    if (!decoded.ok) {
      this.reject(decoded.error, decoded.replyTo);
      return;
    }
    const env = decoded.envelope;
    const replyTo = env.seq ?? 0;
    switch (this.state) {
      case 'await-hello':
        if (decoded.body !== 'hello') {
          this.reject(new ProtocolError('NOT_AUTHENTICATED', 'the first message must be Hello'), replyTo);
          return;
        }
        this.state = 'admitting';
        void this.onHello(env.hello!, replyTo);
        return;
      case 'admitting':
        this.reject(new ProtocolError('UNEXPECTED_MESSAGE', 'wait for Welcome before sending more'), replyTo);
        return;
      case 'active':
        void this.onActive(decoded.body, env, replyTo);
        return;
    }
  }

  private async onHello(hello: HelloInit, replyTo: number): Promise<void> {
    let result: Admission | ProtocolError;
    try {
      result = await this.deps.admit(hello);
    } catch (err) {
      this.deps.log.error({ err }, 'admission failed');
      result = new ProtocolError('INTERNAL', 'the coordinator could not admit this participant', {
        fatal: true,
      });
    }
    if (this.state === 'closed') return;
    if (result instanceof ProtocolError) {
      this.reject(result, replyTo);
      return;
    }
    this.admission = result;
    this.state = 'active';
    const maxFrameBytes = this.guard.authenticated(result.federation, this.deps.maxFrameBytes);
    this.deps.ticket?.authenticated();
    const replaced = this.deps.register(result.participantId, this, result.runtime.federationId);
    replaced?.terminateWith(
      new ProtocolError('REPLACED', 'this participant connected again from another connection'),
    );
    this.send({ welcome: welcomeFor(result, { ...this.deps, maxFrameBytes }) }, replyTo);
    this.deps.log.info(
      { participant: result.participantId, resumed: result.resumed },
      'participant admitted (connection)',
    );
    result.runtime.join(this);
  }

  private async onActive(body: string, env: DecodedEnvelope, replyTo: number): Promise<void> {
    const a = this.admission!;
    // Messages are otherwise handled synchronously up to the runtime; one that arrives while
    // an upload waits on a restore (a TaskRequest right behind it, say) must not overtake
    // it: a re-offer before the upload is marked in flight would make the participant busy again.
    const pending = a.delta !== null ? pendingRestore(a.runtime, a.participantId) : null;
    if (pending) await pending;
    try {
      switch (body) {
        case 'predictions':
        case 'weights': {
          // A delta after a restart (or from another replica): its base is rebuilt from the store first.
          const restore =
            body === 'predictions' && a.delta !== null && Number(env.predictions!.deltaBase ?? 0) !== 0
              ? restoreUploads(a.runtime, a.participantId, a.settings.task.numClasses)
              : null;
          if (restore) await restore;
          const mapped =
            body === 'predictions'
              ? predictionSubmission(env.predictions!, a)
              : weightsSubmission(env.weights!, a);
          if (!mapped.ok) {
            a.runtime.uploadRejected(a.participantId);
            return this.reject(mapped.error, replyTo);
          }
          this.acked(
            await a.runtime.submit(a.participantId, mapped.value),
            replyTo,
            body,
            mapped.value.bytes,
          );
          mapped.acknowledged?.();
          return;
        }
        case 'metrics': {
          const m = env.metrics!;
          const bad =
            validateMetrics(m.metrics) ?? checkMetricsRound(Number(m.round ?? 0), a.runtime.currentVersion);
          if (bad) return this.reject(bad, replyTo);
          await a.runtime.saveMetrics(a.participantId, Number(m.round ?? 0), metricsRecord(m.metrics));
          return;
        }
        case 'taskRequest':
          a.runtime.requestTask(a.participantId);
          return;
        case 'heartbeat':
          if (!env.heartbeat?.reply) this.send({ heartbeat: { unixMs: Date.now(), reply: true } }, replyTo);
          return;
        case 'leave':
          this.close(1000, 'leave');
          return;
        default:
          this.reject(
            new ProtocolError('UNEXPECTED_MESSAGE', `a participant does not send ${body}`),
            replyTo,
          );
      }
    } catch (err) {
      if (err instanceof RuntimeError) {
        this.reject(new ProtocolError(err.code, err.message), replyTo);
        if (err.code === 'STALE_ROUND' || err.code === 'TOO_STALE')
          a.runtime.requestTask(a.participantId, { resendConsensus: false });
        else if (body === 'predictions' || body === 'weights') a.runtime.uploadRejected(a.participantId);
        return;
      }
      this.deps.log.error({ err, participant: a.participantId }, 'submission failed');
      this.reject(
        new ProtocolError('INTERNAL', 'the coordinator could not store this submission; resend it'),
        replyTo,
      );
    }
  }

  private acked(
    ack: { round: number; duplicate: boolean; staleness: number; weight: number },
    replyTo: number,
    kind: string,
    /** The payload bytes the Ack confirms (PROTOCOL.md: Ack.bytes_accepted). */
    bytes: number,
  ) {
    const m = this.deps.metrics;
    if (ack.duplicate) m.duplicates.inc();
    else m.submissions.inc({ kind });
    this.send(
      {
        ack: {
          round: ack.round,
          duplicate: ack.duplicate,
          staleness: ack.staleness,
          weight: ack.weight,
          bytesAccepted: ack.duplicate ? 0 : bytes,
        },
      },
      replyTo,
    );
  }

  // ----------------------------------------------------------- outbound

  private send(body: Omit<EnvelopeInit, 'seq' | 'replyTo'>, replyTo = 0): void {
    if (this.state === 'closed' || this.ws.readyState !== this.ws.OPEN) return;
    this.sendBytes(encodeEnvelope({ ...body, seq: ++this.seq, replyTo }));
  }

  private sendBytes(bytes: Uint8Array): void {
    this.deps.metrics.bytesOut.inc({}, bytes.byteLength);
    this.pendingOut += bytes.byteLength;
    // Frames sent in one tick (an Ack and the Task that follows it) leave in one write.
    this.cork.cork();
    this.ws.send(bytes);
    this.flushTraffic();
  }

  private sendError(err: ProtocolError, replyTo: number): void {
    this.deps.metrics.rejections.inc({ code: err.code });
    this.send(errorEnvelope(err, replyTo), replyTo);
  }

  private reject(err: ProtocolError, replyTo: number): void {
    this.sendError(err, replyTo);
    if (err.fatal) {
      this.close(err.closeCode, err.code);
      return;
    }
    if (++this.strikes > FLOOD_STRIKES) {
      const flood = new ProtocolError('RATE_LIMITED', 'too many rejected messages; disconnecting', {
        fatal: true,
      });
      this.sendError(flood, 0);
      this.close(flood.closeCode, flood.code);
    }
    // Strikes decay: an honest client that hits a few errors is never disconnected.
    setTimeout(() => {
      this.strikes = Math.max(0, this.strikes - 1);
    }, 10_000).unref?.();
  }

  private flushTraffic(): void {
    const pid = this.admission?.participantId;
    if (!pid || (this.pendingIn === 0 && this.pendingOut === 0)) return;
    this.deps.countTraffic(pid, this.pendingIn, this.pendingOut);
    this.pendingIn = 0;
    this.pendingOut = 0;
  }

  private beat(): void {
    if (!this.alive) {
      this.deps.metrics.rejections.inc({ code: 'HEARTBEAT_TIMEOUT' });
      this.ws.terminate();
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      this.ws.terminate();
    }
  }

  private close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.flushTraffic();
    this.state = 'closed';
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
    // A peer that never completes the closing handshake must not hold the socket.
    this.guard.closing(5_000, () => this.ws.terminate());
  }

  private onClose(): void {
    this.flushTraffic();
    this.state = 'closed';
    this.guard.stop();
    this.deps.ticket?.release();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.deps.metrics.connections.inc({}, -1);
    const a = this.admission;
    if (a) {
      a.runtime.leave(a.participantId, this);
      this.deps.unregister(a.participantId, this, a.runtime.federationId);
    }
    this.markEnded();
  }
}
