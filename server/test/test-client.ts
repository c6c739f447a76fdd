/**
 * The in-repo protocol-level test participant: a real WebSocket speaking protobuf
 * Envelopes, with helpers that wait on events (never on fixed sleeps).
 */
import assert from 'node:assert/strict';
import {
  type DecodedEnvelope,
  decodeFrame,
  type EnvelopeInit,
  encodeEnvelope,
  encodePredictions,
  encodingName,
  expandTaskIndices,
  type HelloInit,
  type PredictionEncoding,
  ProtocolError,
  type ValidTask,
  validateTask,
  type WelcomeInit,
} from '@mutua/proto';
import WebSocket, { type ClientOptions } from 'ws';

export interface ErrorView {
  code: number;
  message: string;
  detail: string;
  fatal: boolean;
  closeCode: number;
  retryAfterMs: number;
  replyTo: number;
}

export interface Received {
  envelope: DecodedEnvelope;
  body: string;
  /** The frame's length as it travelled. */
  bytes: number;
}

const ENCODING_VALUE = {
  float32: 1,
  float16: 2,
  uint8: 3,
  topk: 4,
  soft1: 6,
  soft2: 7,
  soft4: 8,
  hard: 9,
} as const;

export class TestClient {
  readonly ws: WebSocket;
  readonly received: Received[] = [];
  closed: { code: number; reason: string } | null = null;
  /** The Welcome of the last successful hello(). */
  welcome: WelcomeInit | null = null;
  private seq = 0;
  private waiters: {
    pred: (r: Received) => boolean;
    consume: boolean;
    resolve: (r: Received) => void;
    reject: (e: Error) => void;
  }[] = [];
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];
  readonly opened: Promise<void>;

  constructor(url: string, options?: ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    // Errors after the handshake (a reset socket) end in 'close', which is what tests wait on.
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data, isBinary) => {
      const r = decodeFrame(data as Buffer, { maxFrameBytes: 1 << 30, isBinary });
      if (!r.ok) throw new Error(`coordinator sent an undecodable frame: ${r.error.message}`);
      const rec = { envelope: r.envelope, body: r.body, bytes: (data as Buffer).length };
      this.received.push(rec);
      for (const w of [...this.waiters]) {
        if (w.pred(rec)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(rec);
          if (w.consume) break;
        }
      }
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters.splice(0)) w(this.closed);
      for (const w of this.waiters.splice(0)) w.reject(new Error(`closed (${code} ${reason}) while waiting`));
    });
  }

  static async connect(url: string, options?: ClientOptions): Promise<TestClient> {
    const c = new TestClient(url, options);
    await c.opened;
    return c;
  }

  /** Connects and joins (or resumes); asserts the Welcome. */
  static async join(url: string, init: HelloInit): Promise<TestClient> {
    const c = await TestClient.connect(url);
    const w = await c.hello(init);
    assert.equal(w.body, 'welcome', `expected Welcome, got ${describe(w)}`);
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

  /**
   * The next (or an already received, not yet consumed) message matching `pred`, removed
   * from `received` unless `consume` is false (then it is only waited for).
   */
  next(pred: (r: Received) => boolean, timeoutMs = 10_000, consume = true): Promise<Received> {
    const have = this.received.find(pred);
    if (have) {
      if (consume) this.received.splice(this.received.indexOf(have), 1);
      return Promise.resolve(have);
    }
    if (this.closed)
      return Promise.reject(new Error(`closed (${this.closed.code}) before a matching message`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new Error(`timed out waiting for a message; unconsumed: ${this.received.map(describe).join(', ')}`),
        );
      }, timeoutMs);
      const waiter = {
        pred,
        consume,
        resolve: (r: Received) => {
          clearTimeout(timer);
          if (consume) this.received.splice(this.received.indexOf(r), 1);
          resolve(r);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  nextBody(body: string, timeoutMs?: number): Promise<Received> {
    return this.next((r) => r.body === body, timeoutMs);
  }

  /** The reply (Ack, Error, Welcome) to the message sent with `seq`. */
  reply(seq: number, timeoutMs?: number): Promise<Received> {
    return this.next((r) => r.envelope.replyTo === seq, timeoutMs);
  }

  /**
   * The next Error (or the reply to `from`, which must be an Error), asserting its
   * ErrorCode number.
   */
  async error(code: number, from?: number): Promise<ErrorView> {
    const r = from === undefined ? await this.nextBody('error') : await this.reply(from);
    assert.equal(r.body, 'error', `expected Error ${code}, got ${describe(r)}`);
    const e = r.envelope.error!;
    assert.equal(e.code, code, `expected Error ${code}, got ${describe(r)}`);
    return {
      code: e.code ?? 0,
      message: e.message ?? '',
      detail: e.detail ?? '',
      fatal: e.fatal ?? false,
      closeCode: e.closeCode ?? 0,
      retryAfterMs: e.retryAfterMs ?? 0,
      replyTo: r.envelope.replyTo ?? 0,
    };
  }

  /** A task whose round is at least `round`. */
  task(round = 1, timeoutMs?: number): Promise<Received> {
    return this.next((r) => r.body === 'task' && Number(r.envelope.task!.round) >= round, timeoutMs);
  }

  /**
   * The newest task with round >= `round` (older queued tasks are consumed), checked as a real client would check it
   * (validateTask against the Welcome: indices distinct and inside the public set, targets
   * decodable and rows summing to 1).
   */
  async validTask(round = 1, timeoutMs?: number): Promise<ValidTask & { encoding?: PredictionEncoding }> {
    let t = (await this.task(round, timeoutMs)).envelope.task!;
    // Several tasks may be queued (rounds closed meanwhile): a client works on the newest.
    for (let later = this.received.find((r) => r.body === 'task'); later; ) {
      this.received.splice(this.received.indexOf(later), 1);
      if (Number(later.envelope.task!.round) >= Number(t.round)) t = later.envelope.task!;
      later = this.received.find((r) => r.body === 'task');
    }
    const w = this.welcome;
    assert.ok(w, 'validTask needs a Welcome');
    if (w.derivedIndices) {
      // Lists left out are rebuilt from their versions, as a client that offered it does.
      const rule = {
        sampleCount: w.publicSet!.sampleCount!,
        batchSize: w.federation!.batchSize!,
        seed: w.federation!.seed!,
      };
      const full = expandTaskIndices(t, rule);
      assert.ok(!(full instanceof ProtocolError), `derived indices: ${String(full)}`);
      t = full;
    }
    const v = validateTask(t, {
      classes: w.federation!.task!.numClasses!,
      sampleCount: w.publicSet!.sampleCount!,
    });
    assert.ok(v.ok, `the coordinator sent a task a client rejects: ${v.ok ? '' : v.error.message}`);
    return { ...v.value, encoding: t.targets ? encodingName(t.targets.encoding) : undefined };
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
    const r = await this.reply(seq);
    if (r.body === 'welcome') this.welcome = r.envelope.welcome!;
    return r;
  }

  /** Uploads predictions for a task: `probs` defaults to a valid one-hot-ish matrix. */
  upload(
    round: number,
    rows: number,
    opts: {
      classes?: number;
      encoding?: PredictionEncoding;
      probs?: Float32Array;
      label?: number;
      k?: number;
    } = {},
  ): number {
    const C = opts.classes ?? 10;
    const enc = opts.encoding ?? 'uint8';
    const probs = opts.probs ?? predictions(rows, C, opts.label ?? 0);
    const k = enc === 'topk' ? (opts.k ?? 3) : 0;
    return this.uploadRaw(round, rows, C, enc, encodePredictions(probs, rows, C, enc, { k }), k);
  }

  /** Uploads an arbitrary payload (no client-side validation). */
  uploadRaw(
    round: number,
    rows: number,
    classes: number,
    encoding: PredictionEncoding,
    payload: Uint8Array,
    k = 0,
  ): number {
    return this.send({
      predictions: {
        round,
        encoding: ENCODING_VALUE[encoding],
        rows,
        classes,
        k,
        payload,
        metrics: { trainLoss: 0.5, trainAccuracy: 0.9, samples: 100 },
      },
    });
  }

  /**
   * One round as a well-behaved participant: takes the newest task at or after
   * `fromRound`, uploads for it, expects a fresh Ack, and waits until a later task has
   * arrived (the round closed or the version advanced; that task is left for the next
   * call). Returns the round it contributed to.
   */
  async completeRound(fromRound = 1, label = 0, encoding?: PredictionEncoding): Promise<number> {
    const t = await this.validTask(fromRound);
    const ack = await this.reply(this.upload(t.round, t.predictIndices.length, { label, encoding }));
    assert.equal(ack.body, 'ack', `expected Ack, got ${describe(ack)}`);
    assert.equal(ack.envelope.ack!.duplicate, false);
    await this.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > t.round, undefined, false);
    return t.round;
  }

  close(): void {
    this.ws.close();
  }
}

/** A short description of a received message, for assertion messages. */
export function describe(r: Received): string {
  if (r.body === 'error') {
    const e = r.envelope.error!;
    return `Error{code=${e.code}, ${e.message}}`;
  }
  if (r.body === 'task') return `Task{round=${r.envelope.task!.round}}`;
  return r.body;
}

/** n rows over C classes with most of the mass on `label`. */
export function predictions(n: number, C: number, label: number): Float32Array {
  const p = new Float32Array(n * C).fill(0.1 / (C - 1));
  for (let r = 0; r < n; r++) p[r * C + label] = 0.9;
  return p;
}

/** Raw little-endian float32 bytes (for payloads a validating encoder would refuse). */
export function float32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}
