/**
 * The in-repo protocol-level test participant: a real WebSocket speaking protobuf
 * Envelopes, with helpers that wait on events (never on fixed sleeps).
 */
import {
  type DecodedEnvelope,
  decodeFrame,
  type EnvelopeInit,
  encodeEnvelope,
  encodePredictions,
  type HelloInit,
  type PredictionEncoding,
} from '@mutua/proto';
import WebSocket from 'ws';

export interface Received {
  envelope: DecodedEnvelope;
  body: string;
}

export class TestClient {
  readonly ws: WebSocket;
  readonly received: Received[] = [];
  closed: { code: number; reason: string } | null = null;
  private seq = 0;
  private waiters: {
    pred: (r: Received) => boolean;
    resolve: (r: Received) => void;
    reject: (e: Error) => void;
  }[] = [];
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data, isBinary) => {
      const r = decodeFrame(data as Buffer, { maxFrameBytes: 1 << 30, isBinary });
      if (!r.ok) throw new Error(`coordinator sent an undecodable frame: ${r.error.message}`);
      const rec = { envelope: r.envelope, body: r.body };
      this.received.push(rec);
      for (const w of [...this.waiters]) {
        if (w.pred(rec)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(rec);
        }
      }
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters.splice(0)) w(this.closed);
      for (const w of this.waiters.splice(0)) w.reject(new Error(`closed (${code} ${reason}) while waiting`));
    });
  }

  static async connect(url: string): Promise<TestClient> {
    const c = new TestClient(url);
    await c.opened;
    return c;
  }

  /** Sends a body; returns the seq used. */
  send(body: Omit<EnvelopeInit, 'seq' | 'replyTo'>): number {
    const seq = ++this.seq;
    this.ws.send(encodeEnvelope({ ...body, seq }));
    return seq;
  }

  sendRaw(bytes: Uint8Array | string, binary = true): void {
    this.ws.send(bytes, { binary });
  }

  /** The next (or an already received, not yet consumed) message matching `pred`. */
  next(pred: (r: Received) => boolean, timeoutMs = 10_000): Promise<Received> {
    const have = this.received.find(pred);
    if (have) {
      this.received.splice(this.received.indexOf(have), 1);
      return Promise.resolve(have);
    }
    if (this.closed)
      return Promise.reject(new Error(`closed (${this.closed.code}) before a matching message`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (r) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(r), 1);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  nextBody(body: string, timeoutMs?: number): Promise<Received> {
    return this.next((r) => r.body === body, timeoutMs);
  }

  /** The reply (Ack, Error, Welcome) to the message sent with `seq`. */
  reply(seq: number, timeoutMs?: number): Promise<Received> {
    return this.next((r) => r.envelope.replyTo === seq, timeoutMs);
  }

  /** A task whose round is at least `round`. */
  task(round = 1, timeoutMs?: number): Promise<Received> {
    return this.next((r) => r.body === 'task' && Number(r.envelope.task!.round) >= round, timeoutMs);
  }

  waitClose(): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  async hello(init: HelloInit): Promise<Received> {
    const seq = this.send({
      hello: {
        protocolVersion: 1,
        inputShape: [28, 28, 1],
        numClasses: 10,
        supportedEncodings: [3, 2, 1],
        ...init,
      },
    });
    return this.reply(seq);
  }

  /** Uploads predictions for a task: `probs` defaults to a valid one-hot-ish matrix. */
  upload(
    round: number,
    rows: number,
    opts: { classes?: number; encoding?: PredictionEncoding; probs?: Float32Array; label?: number } = {},
  ): number {
    const C = opts.classes ?? 10;
    const enc = opts.encoding ?? 'uint8';
    const probs = opts.probs ?? predictions(rows, C, opts.label ?? 0);
    const encValue = { float32: 1, float16: 2, uint8: 3, topk: 4 }[enc];
    return this.send({
      predictions: {
        round,
        encoding: encValue,
        rows,
        classes: C,
        payload: encodePredictions(probs, rows, C, enc),
        metrics: { trainLoss: 0.5, trainAccuracy: 0.9, samples: 100 },
      },
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** n rows over C classes with most of the mass on `label`. */
export function predictions(n: number, C: number, label: number): Float32Array {
  const p = new Float32Array(n * C).fill(0.1 / (C - 1));
  for (let r = 0; r < n; r++) p[r * C + label] = 0.9;
  return p;
}
