import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import {
  DeltaRows,
  decodeDelta,
  decodePredictions,
  encodeDelta,
  encodePredictions,
  encodeWeights,
  maxAbsError,
  mergedBatches,
  publicBatch,
  validatePredictionUpload,
  validateWeightsUpload,
} from '@mutua/proto';
import {
  createFakePublicSet,
  FakeCoordinator,
  type FakePublicSet,
  type FakeWelcomeOptions,
  fakeWelcome,
  type Received,
} from './fake-coordinator.ts';
import type { Learner, LearnerMetrics, TrainArgs } from './learner.ts';
import {
  defaultStorageKey,
  ParticipantSession,
  type ParticipantSessionOptions,
  type TokenStorage,
} from './participant-session.ts';
import type { SessionError } from './session-error.ts';

const URL_ = 'ws://coord.test/v1/ws';
const C = 3;

/**
 * A learner that trains instantly (or waits on a gate that honours the abort signal) and
 * predicts a fixed distribution: 0.7 on class (index mod C), 0.15 on the others.
 */
class FakeLearner implements Learner {
  readonly trains: TrainArgs[] = [];
  readonly predicts: Uint32Array[] = [];
  /** Rounds whose training waits until release(round) or abort. */
  readonly gated = new Set<number>();
  private readonly gates = new Map<number, () => void>();
  modelSignature = 'sig-1';
  numSamples = 10;
  weights = new Float32Array([0, 0, 0, 0, 0]);
  setWeightsCalls: Float32Array[] = [];

  async train(args: TrainArgs): Promise<LearnerMetrics> {
    this.trains.push(args);
    if (this.gated.has(args.round)) {
      await new Promise<void>((resolve, reject) => {
        args.signal.addEventListener('abort', () => reject(args.signal.reason), { once: true });
        this.gates.set(args.round, resolve);
      });
    }
    args.onProgress({ epoch: 1, epochs: args.localEpochs, batch: 1, batches: 1, loss: 0.5 });
    return { trainLoss: 0.5, trainAccuracy: 0.8, distillLoss: args.targets ? 0.1 : 0, samples: 10 };
  }

  release(round: number): void {
    const open = this.gates.get(round);
    assert.ok(open, `round ${round} is not waiting at its gate`);
    open();
  }

  async predict(indices: Uint32Array, _temperature: number): Promise<Float32Array> {
    this.predicts.push(indices);
    return expectedProbs(indices);
  }

  async getWeights(): Promise<Float32Array> {
    return this.weights.slice();
  }

  async setWeights(weights: Float32Array): Promise<void> {
    this.setWeightsCalls.push(weights.slice());
    this.weights = weights.slice();
  }
}

function expectedProbs(indices: Uint32Array): Float32Array {
  const out = new Float32Array(indices.length * C).fill(0.15);
  indices.forEach((i, r) => {
    out[r * C + (i % C)] = 0.7;
  });
  return out;
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `value ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

function mapStorage(initial: Record<string, string> = {}): TokenStorage & { map: Map<string, string> } {
  const map = new Map(Object.entries(initial));
  return { map, get: (k) => map.get(k), set: (k, v) => void map.set(k, v) };
}

interface Harness {
  coord: FakeCoordinator;
  session: ParticipantSession;
  learner: FakeLearner;
  storage: ReturnType<typeof mapStorage>;
  pub: FakePublicSet;
  fetches: string[];
  errors: SessionError[];
}

const sessions: ParticipantSession[] = [];

afterEach(async () => {
  // A failed assertion must not leave timers running.
  await Promise.all(sessions.splice(0).map((s) => s.stop()));
});

async function harness(
  overrides: Partial<ParticipantSessionOptions> = {},
  storageInit = {},
): Promise<Harness> {
  const coord = new FakeCoordinator();
  const pub = await createFakePublicSet(10, [4]);
  const learner = new FakeLearner();
  const storage = mapStorage(storageInit);
  const fetches: string[] = [];
  const session = new ParticipantSession({
    url: URL_,
    transport: coord.transport,
    joinToken: 'join-abc',
    storage,
    name: 'tester',
    kind: 'node',
    clientVersion: 'test',
    model: { arch: 'mlp', inputShape: [4], numClasses: C },
    learner,
    fetchPublicSet: async (url, sha256) => {
      fetches.push(url);
      assert.equal(sha256, pub.sha256);
      return pub.bytes;
    },
    reconnect: { initialDelayMs: 1, maxDelayMs: 4 },
    random: () => 0.5,
    stopTimeoutMs: 100,
    ...overrides,
  });
  const errors: SessionError[] = [];
  session.on('error', (e) => errors.push(e));
  sessions.push(session);
  return { coord, session, learner, storage, pub, fetches, errors };
}

/** start() + Hello + Welcome; returns the Hello the coordinator received. */
async function join(h: Harness, welcome: FakeWelcomeOptions = {}): Promise<Received> {
  h.session.start();
  const hello = await h.coord.next('hello');
  const welcomed = h.session.once('welcome');
  h.coord.send(hello.conn, { welcome: fakeWelcome({ publicSet: h.pub, ...welcome }) }, hello.env.seq);
  await welcomed;
  return hello;
}

const INDICES = [2, 4, 6, 8];

/** Sends Task `round`, takes the upload, acks it; returns the upload and the `uploaded` event. */
async function playRound(h: Harness, round: number, task: Record<string, unknown> = {}) {
  const uploaded = h.session.once('uploaded', (e) => e.round === round);
  h.coord.send(h.coord.conn, { task: { round, mode: 1, predictIndices: INDICES, localEpochs: 2, ...task } });
  const up = await h.coord.next('predictions');
  assert.equal(up.env.predictions!.round, round);
  h.coord.send(up.conn, { ack: { round, duplicate: false, staleness: 0, weight: 1 } }, up.env.seq);
  return { up, event: await uploaded };
}

describe('ParticipantSession', () => {
  test('sends Hello, takes the Welcome, stores the resume token and fetches the public set once', async () => {
    const h = await harness();
    const states: string[] = [];
    h.session.on('state', (s) => states.push(s.to));
    const hello = await join(h);
    const m = hello.env.hello!;
    assert.equal(m.protocolVersion, 1);
    assert.equal(m.joinToken, 'join-abc');
    assert.equal(m.resumeToken, '');
    assert.equal(m.name, 'tester');
    assert.equal(m.kind, 1);
    assert.equal(m.modelArch, 'mlp');
    assert.deepEqual(m.inputShape, [4]);
    assert.equal(m.numClasses, C);
    // 8, 7, 6, 9: soft4, soft2, soft1, hard; 5 = ENCODING_UINT8_AFFINE: this client also
    // sends and reads 8-bit fedavg weights. It can deflate payloads (Compression Streams).
    assert.deepEqual(m.supportedEncodings, [1, 2, 3, 4, 8, 7, 6, 9, 5]);
    assert.deepEqual(m.supportedCompressions, [1]);
    assert.equal(h.session.state, 'ready');
    assert.deepEqual(states, ['connecting', 'awaiting-welcome', 'ready']);
    assert.equal(h.session.federation?.uploadEncoding, 'uint8');
    assert.equal(h.session.federation?.federation.temperature, 2);
    assert.equal(h.storage.map.get(defaultStorageKey(URL_, 'join-abc')), 'resume-1');
    // The public set is fetched over HTTP from the coordinator's origin.
    await playRound(h, 1);
    assert.deepEqual(h.fetches, [`http://coord.test/v1/public-sets/${h.pub.sha256}`]);
  });

  test('task -> train -> upload -> ack for three rounds', async () => {
    const h = await harness();
    await join(h);
    const progress: number[] = [];
    h.session.on('progress', (p) => progress.push(p.round));
    for (const round of [1, 2, 3]) {
      const { up, event } = await playRound(h, round);
      const p = up.env.predictions!;
      assert.equal(p.rows, INDICES.length);
      assert.equal(p.classes, C);
      assert.equal(p.encoding, 3);
      assert.equal(p.metrics?.trainLoss, 0.5);
      assert.equal(p.metrics?.samples, 10);
      const decoded = validatePredictionUpload(p, { rows: 4, classes: C, allowedEncodings: ['uint8'] });
      assert.ok(decoded.ok);
      const want = expectedProbs(Uint32Array.from(INDICES));
      assertClose(decoded.value, want, maxAbsError('uint8', C));
      assert.equal(event.ack.round, round);
      assert.equal(event.ack.duplicate, false);
      // The coordinator has sent nothing since the Ack, so both sides agree on every byte.
      assert.equal(event.bytesUp, h.coord.bytesIn);
      assert.equal(event.bytesDown, h.coord.bytesOut);
      assert.equal(event.frameBytes > p.payload!.byteLength, true);
      assert.equal(h.session.state, 'ready');
    }
    assert.equal(h.learner.trains.length, 3);
    for (const t of h.learner.trains) {
      assert.equal(t.localEpochs, 2);
      assert.equal(t.temperature, 2);
      assert.equal(t.lambda, 0.5);
      assert.equal(t.targets, undefined);
    }
    assert.deepEqual([...h.learner.predicts[0]!], INDICES);
    assert.deepEqual(progress, [1, 2, 3]);
    assert.equal(h.fetches.length, 1);
    assert.deepEqual(h.errors, []);
  });

  test('targets reach the learner decoded (uint8, then kept, then topk)', async () => {
    const h = await harness();
    await join(h);
    const probs = new Float32Array([0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8]);
    const uint8 = encodePredictions(probs, 3, C, 'uint8');
    await playRound(h, 1, {
      targets: {
        version: 1,
        indices: [5, 7, 9],
        encoding: 3,
        rows: 3,
        classes: C,
        payload: uint8,
        contributors: 2,
      },
    });
    const t1 = h.learner.trains[0]!.targets!;
    assert.deepEqual(t1.indices, Uint32Array.from([5, 7, 9]));
    assert.deepEqual(t1.probs, decodePredictions(uint8, 3, C, 'uint8'));
    assertClose(t1.probs, probs, maxAbsError('uint8', C));
    assert.equal(t1.version, 1);
    assert.equal(t1.contributors, 2);

    // Unchanged consensus: the coordinator omits targets, the learner still distills toward them.
    await playRound(h, 2);
    assert.equal(h.learner.trains[1]!.targets, t1);

    const topkProbs = new Float32Array([0.7, 0.2, 0.1, 0.05, 0.15, 0.8]);
    const topk = encodePredictions(topkProbs, 2, C, 'topk', { k: 2 });
    await playRound(h, 3, {
      targets: {
        version: 3,
        indices: [0, 1],
        encoding: 4,
        rows: 2,
        classes: C,
        k: 2,
        payload: topk,
        contributors: 3,
      },
    });
    const t3 = h.learner.trains[2]!.targets!;
    assert.deepEqual(t3.indices, Uint32Array.from([0, 1]));
    assert.deepEqual(t3.probs, decodePredictions(topk, 2, C, 'topk', { k: 2 }));
    assertClose(t3.probs, topkProbs, maxAbsError('topk', C, 2));
    assert.equal(t3.version, 3);
    assert.deepEqual(h.errors, []);
  });

  test('a duplicate Ack counts as accepted, and a repeated Ack changes nothing', async () => {
    const h = await harness();
    await join(h);
    const uploaded: number[] = [];
    h.session.on('uploaded', (e) => uploaded.push(e.round));
    const done = h.session.once('uploaded');
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 1, predictIndices: INDICES } });
    const up = await h.coord.next('predictions');
    h.coord.send(up.conn, { ack: { round: 1, duplicate: true } }, up.env.seq);
    const event = await done;
    assert.equal(event.ack.duplicate, true);
    assert.equal(h.session.state, 'ready');
    // The same Ack again, then a normal round: the repeat is ignored in between (frames arrive in order).
    h.coord.send(up.conn, { ack: { round: 1, duplicate: true } }, up.env.seq);
    await playRound(h, 2);
    assert.deepEqual(uploaded, [1, 2]);
    assert.deepEqual(h.errors, []);
  });

  test('STALE_ROUND drops the result and the session carries on with the next task', async () => {
    const h = await harness();
    await join(h);
    const rejected = h.session.once('error');
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 1, predictIndices: INDICES } });
    const up = await h.coord.next('predictions');
    h.coord.send(up.conn, { error: { code: 23, message: 'round 1 is closed', fatal: false } }, up.env.seq);
    const err = await rejected;
    assert.equal(err.code, 'STALE_ROUND');
    assert.equal(err.fatal, false);
    assert.equal(err.round, 1);
    assert.equal(h.session.state, 'ready');
    const { event } = await playRound(h, 2);
    assert.equal(event.round, 2);
    assert.equal(h.learner.trains.length, 2);
    assert.equal(h.coord.pending('predictions').length, 0, 'round 1 must not be resent');
  });

  test('fatal BAD_TOKEN ends the session without reconnecting', async () => {
    const h = await harness();
    let reconnects = 0;
    h.session.on('reconnecting', () => reconnects++);
    h.session.start();
    const hello = await h.coord.next('hello');
    h.coord.send(
      hello.conn,
      { error: { code: 11, message: 'unknown join token', fatal: true, closeCode: 4001 } },
      hello.env.seq,
    );
    hello.conn.close(4001, 'BAD_TOKEN');
    const closed = await h.session.done;
    assert.equal(closed.error?.code, 'BAD_TOKEN');
    assert.equal(closed.error?.fatal, true);
    assert.equal(h.session.state, 'closed');
    assert.equal(reconnects, 0);
    assert.equal(h.coord.connections.length, 1);
  });

  test('a close code alone (4003 TOKEN_REVOKED) also ends the session', async () => {
    const h = await harness();
    await join(h);
    h.coord.conn.close(4003, '');
    const closed = await h.session.done;
    assert.equal(closed.error?.code, 'TOKEN_REVOKED');
    assert.equal(h.coord.connections.length, 1);
  });

  test('an abnormal close reconnects with the resume token, resends the unacknowledged upload and sends TaskRequest', async () => {
    const h = await harness();
    await join(h);
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 1, predictIndices: INDICES } });
    const first = await h.coord.next('predictions');
    const reconnecting = h.session.once('reconnecting');
    first.conn.terminate();
    const r = await reconnecting;
    assert.equal(r.attempt, 1);
    assert.equal(r.error.code, 'CONNECTION_LOST');
    assert.equal(r.delayMs, 1); // initial 1 ms, jitter 0.5 with random() = 0.5 -> 0.75 -> 1

    const hello = await h.coord.next('hello');
    assert.equal(hello.env.hello!.resumeToken, 'resume-1');
    assert.equal(hello.env.hello!.joinToken, '');
    const uploaded = h.session.once('uploaded');
    h.coord.send(hello.conn, { welcome: fakeWelcome({ publicSet: h.pub, resumed: true }) }, hello.env.seq);
    const again = await h.coord.next('predictions');
    const request = await h.coord.next('taskRequest');
    assert.equal(again.conn, hello.conn);
    assert.equal(again.env.predictions!.round, 1);
    assert.deepEqual(again.env.predictions!.payload, first.env.predictions!.payload);
    assert.equal(Number(request.env.taskRequest!.lastRound), 0);
    assert.ok(request.env.seq > again.env.seq, 'the upload goes out before the TaskRequest');
    h.coord.send(hello.conn, { ack: { round: 1, duplicate: true } }, again.env.seq);
    assert.equal((await uploaded).ack.duplicate, true);
    assert.equal(h.learner.trains.length, 1, 'the work survives the reconnect');
    assert.equal(h.fetches.length, 1);
    // After a reconnect the TaskRequest names the last acknowledged round.
    const second = h.session.once('reconnecting');
    hello.conn.terminate();
    await second;
    const hello3 = await h.coord.next('hello');
    h.coord.send(
      hello3.conn,
      { welcome: fakeWelcome({ publicSet: h.pub, resumed: true, currentRound: 1 }) },
      hello3.env.seq,
    );
    assert.equal(Number((await h.coord.next('taskRequest')).env.taskRequest!.lastRound), 1);
  });

  test('SHUTTING_DOWN reconnects no sooner than retry_after_ms', async () => {
    const h = await harness();
    await join(h);
    const reconnecting = h.session.once('reconnecting');
    h.coord.send(h.coord.conn, {
      error: { code: 32, message: 'restarting', fatal: true, closeCode: 1001, retryAfterMs: 7 },
    });
    h.coord.conn.close(1001, 'SHUTTING_DOWN');
    const r = await reconnecting;
    assert.equal(r.error.code, 'SHUTTING_DOWN');
    assert.equal(r.delayMs, 7);
    const hello = await h.coord.next('hello');
    assert.equal(hello.env.hello!.resumeToken, 'resume-1');
  });

  test('a rejected stored resume token falls back to the join token once', async () => {
    const key = defaultStorageKey(URL_, 'join-abc');
    const h = await harness({}, { [key]: 'stale-token' });
    h.session.start();
    const first = await h.coord.next('hello');
    assert.equal(first.env.hello!.resumeToken, 'stale-token');
    h.coord.send(
      first.conn,
      { error: { code: 11, message: 'unknown resume token', fatal: true } },
      first.env.seq,
    );
    first.conn.close(4001, 'BAD_TOKEN');
    const second = await h.coord.next('hello');
    assert.equal(second.env.hello!.joinToken, 'join-abc');
    assert.equal(second.env.hello!.resumeToken, '');
    const welcomed = h.session.once('welcome');
    h.coord.send(
      second.conn,
      { welcome: fakeWelcome({ publicSet: h.pub, resumeToken: 'resume-2' }) },
      second.env.seq,
    );
    await welcomed;
    assert.equal(h.storage.map.get(key), 'resume-2');
    assert.equal(h.errors[0]?.code, 'BAD_TOKEN');
    assert.equal(h.errors[0]?.fatal, false);
  });

  test('an unreachable coordinator is retried, then reported after maxAttempts', async () => {
    const h = await harness({ reconnect: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 } });
    h.coord.refuse = new Error('ECONNREFUSED');
    const attempts: number[] = [];
    h.session.on('reconnecting', (r) => attempts.push(r.attempt));
    h.session.start();
    const closed = await h.session.done;
    assert.deepEqual(attempts, [1, 2]);
    assert.equal(closed.error?.code, 'UNREACHABLE');
    assert.equal(closed.error?.fatal, true);
    assert.match(closed.error!.message, /ECONNREFUSED/);
  });

  test('sync: a newer task aborts the stale one at the next batch boundary', async () => {
    const h = await harness();
    await join(h);
    h.learner.gated.add(1);
    const started: number[] = [];
    h.session.on('task', (t) => started.push(t.round));
    const first = h.session.once('task');
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 1, predictIndices: INDICES } });
    await first;
    assert.equal(h.session.state, 'training');
    await playRound(h, 2);
    assert.deepEqual(started, [1, 2]);
    assert.equal(h.learner.trains[0]!.signal.aborted, true);
    assert.equal(h.learner.predicts.length, 1);
    assert.deepEqual(h.errors, []);
  });

  test('async: the task in hand is finished and uploaded before the newer one starts', async () => {
    const h = await harness();
    await join(h, { mode: 2 });
    h.learner.gated.add(1);
    const first = h.session.once('task');
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 2, predictIndices: INDICES } });
    await first;
    h.coord.send(h.coord.conn, { task: { round: 2, mode: 2, predictIndices: [1, 3] } });
    h.coord.send(h.coord.conn, { task: { round: 3, mode: 2, predictIndices: [0, 5] } });
    // Round 2 is superseded by round 3 in the queue; round 1 goes on.
    const started = h.session.once('task');
    h.learner.release(1);
    const up1 = await h.coord.next('predictions');
    assert.equal(up1.env.predictions!.round, 1);
    assert.equal(h.learner.trains[0]!.signal.aborted, false);
    h.coord.send(up1.conn, { ack: { round: 1, staleness: 2, weight: 0.5 } }, up1.env.seq);
    assert.equal((await started).round, 3);
    const up3 = await h.coord.next('predictions');
    assert.equal(up3.env.predictions!.round, 3);
    const acked = h.session.once('uploaded');
    h.coord.send(up3.conn, { ack: { round: 3 } }, up3.env.seq);
    assert.equal((await acked).round, 3);
    assert.equal(h.learner.trains.length, 2);
  });

  test('an invalid Task is reported and ignored; the next valid one runs', async () => {
    const h = await harness();
    await join(h);
    const bad = h.session.once('error');
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 1, predictIndices: [1, 1] } });
    const err = await bad;
    assert.equal(err.code, 'BAD_SHAPE');
    assert.equal(err.fatal, false);
    const outside = h.session.once('error');
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 1, predictIndices: [10] } });
    assert.equal((await outside).code, 'BAD_SHAPE');
    assert.equal(h.session.state, 'ready');
    await playRound(h, 2);
    assert.equal(h.learner.trains.length, 1);
  });

  test('answers a Heartbeat that asks for a reply', async () => {
    const h = await harness();
    await join(h);
    const seq = h.coord.send(h.coord.conn, { heartbeat: { unixMs: 1, reply: false } });
    const hb = await h.coord.next('heartbeat');
    assert.equal(hb.env.heartbeat!.reply, true);
    assert.equal(hb.env.replyTo, seq);
  });

  test('a Welcome for another class count ends the session with MODEL_MISMATCH', async () => {
    const h = await harness();
    h.session.start();
    const hello = await h.coord.next('hello');
    h.coord.send(hello.conn, { welcome: fakeWelcome({ publicSet: h.pub, numClasses: 4 }) }, hello.env.seq);
    const closed = await h.session.done;
    assert.equal(closed.error?.code, 'MODEL_MISMATCH');
  });

  test('fedavg: global weights are applied before training and the weights are uploaded', async () => {
    const h = await harness({ model: { arch: 'mlp', inputShape: [4], numClasses: C, signature: 'sig-1' } });
    await join(h, { strategy: 2, publicSet: null, encodings: [1] });
    const global = new Float32Array([1, 2, 3, 4, 5]);
    const uploaded = h.session.once('uploaded');
    h.coord.send(h.coord.conn, {
      task: {
        round: 1,
        mode: 1,
        globalWeights: {
          round: 0,
          encoding: 1,
          count: 5,
          payload: encodeWeights(global, 'float32'),
          modelSignature: 'sig-1',
        },
      },
    });
    const up = await h.coord.next('weights');
    assert.deepEqual(h.learner.setWeightsCalls, [global]);
    const w = up.env.weights!;
    assert.equal(w.numSamples, 10);
    assert.equal(w.modelSignature, 'sig-1');
    const decoded = validateWeightsUpload(w, { count: 5, signature: 'sig-1' });
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, global);
    h.coord.send(up.conn, { ack: { round: 1 } }, up.env.seq);
    await uploaded;
    assert.equal(h.fetches.length, 0);
  });

  test('RATE_LIMITED on an upload resends it after retry_after_ms; UNKNOWN_ROUND drops it and asks for the task', async () => {
    const h = await harness();
    await join(h);
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 1, predictIndices: INDICES } });
    const first = await h.coord.next('predictions');
    h.coord.send(
      first.conn,
      { error: { code: 30, message: 'slow down', fatal: false, retryAfterMs: 3 } },
      first.env.seq,
    );
    const again = await h.coord.next('predictions');
    assert.equal(again.env.predictions!.round, 1);
    assert.ok(again.env.seq > first.env.seq);
    h.coord.send(again.conn, { error: { code: 25, message: 'never issued', fatal: false } }, again.env.seq);
    const request = await h.coord.next('taskRequest');
    assert.equal(Number(request.env.taskRequest!.lastRound), 0);
    assert.equal(h.session.state, 'ready');
    assert.deepEqual(
      h.errors.map((e) => e.code),
      ['RATE_LIMITED', 'UNKNOWN_ROUND'],
    );
    await playRound(h, 2);
  });

  test('a silent coordinator is detected by heartbeats and the session reconnects', async () => {
    const h = await harness();
    await join(h, { heartbeatIntervalMs: 5 });
    const ping = await h.coord.next('heartbeat');
    assert.equal(ping.env.heartbeat!.reply, false);
    // The coordinator never answers: after three silent intervals the session gives up on the connection.
    const r = await h.session.once('reconnecting');
    assert.equal(r.error.code, 'HEARTBEAT_LOST');
    assert.equal((await h.coord.next('hello')).env.hello!.resumeToken, 'resume-1');
  });

  test('a failed public-set fetch is retried on the next connection; tasks wait for it', async () => {
    let failures = 1;
    const h = await harness();
    const fetchOk = h.pub.bytes;
    const session = new ParticipantSession({
      url: URL_,
      transport: h.coord.transport,
      joinToken: 'join-abc',
      model: { arch: 'mlp', inputShape: [4], numClasses: C },
      learner: h.learner,
      fetchPublicSet: async () => {
        if (failures-- > 0) throw new Error('503 Service Unavailable');
        return fetchOk;
      },
      reconnect: { initialDelayMs: 1, maxDelayMs: 4 },
      stopTimeoutMs: 100,
    });
    sessions.push(session);
    session.start();
    const hello = await h.coord.next('hello');
    const reconnecting = session.once('reconnecting');
    h.coord.send(hello.conn, { welcome: fakeWelcome({ publicSet: h.pub }) }, hello.env.seq);
    h.coord.send(hello.conn, { task: { round: 1, mode: 1, predictIndices: INDICES } });
    const r = await reconnecting;
    assert.equal(r.error.code, 'PUBLIC_SET');
    assert.match(r.error.message, /503/);
    const hello2 = await h.coord.next('hello');
    h.coord.send(hello2.conn, { welcome: fakeWelcome({ publicSet: h.pub, resumed: true }) }, hello2.env.seq);
    // The Task received before the drop is still in hand once the public set is there.
    const up = await h.coord.next('predictions');
    assert.equal(up.env.predictions!.round, 1);
    h.coord.send(up.conn, { ack: { round: 1 } }, up.env.seq);
  });

  test('a Welcome whose current round is behind the last acknowledged one resets the round bookkeeping', async () => {
    const h = await harness();
    await join(h);
    await playRound(h, 5);
    const reconnecting = h.session.once('reconnecting');
    h.coord.conn.terminate();
    await reconnecting;
    const hello = await h.coord.next('hello');
    h.coord.send(hello.conn, { welcome: fakeWelcome({ publicSet: h.pub, currentRound: 0 }) }, hello.env.seq);
    // A coordinator that restarted its numbering: round 1 is new work, not a repeat of an old round.
    assert.equal(Number((await h.coord.next('taskRequest')).env.taskRequest!.lastRound), 0);
    await playRound(h, 1);
    assert.equal(h.learner.trains.length, 2);
  });

  test('delta payloads: uploads carry changed rows only, a DELTA_BASE_UNKNOWN makes the same upload go full, targets rebuild', async () => {
    const h = await harness();
    const hello = await join(h, { payloadDelta: true });
    assert.equal(hello.env.hello!.supportsDelta, true);
    assert.equal(Number(hello.env.hello!.deltaTargetsVersion ?? 0), 0, 'no Targets held yet');
    assert.deepEqual(h.session.federation?.delta, { threshold: 0 });
    const held = new DeltaRows(C); // what the coordinator holds of this participant's uploads
    // Round 1: nothing held, a full upload.
    const r1 = (await playRound(h, 1)).up.env.predictions!;
    assert.equal(Number(r1.deltaBase ?? 0), 0);
    held.update(INDICES, decodePredictions(r1.payload!, 4, C, 'uint8'), 1);
    // Round 2 predicts two held rows (same values) and two new ones: only those two travel.
    const next = [2, 4, 5, 7];
    const { up, event } = await playRound(h, 2, { predictIndices: next });
    const r2 = up.env.predictions!;
    assert.equal(Number(r2.deltaBase), 1);
    assert.equal(event.rowsSent, 2);
    assert.equal(r2.payload!.length, 1 + 2 * C);
    const rebuilt = decodeDelta(r2.payload!, next, C, 'uint8', held).values;
    assert.deepEqual(
      rebuilt,
      decodePredictions(
        encodePredictions(expectedProbs(Uint32Array.from(next)), 4, C, 'uint8'),
        4,
        C,
        'uint8',
      ),
    );
    // Round 3: the coordinator restarted and holds nothing: DELTA_BASE_UNKNOWN, the same upload goes full.
    const uploaded = h.session.once('uploaded', (e) => e.round === 3);
    h.coord.send(h.coord.conn, { task: { round: 3, mode: 1, predictIndices: INDICES, localEpochs: 1 } });
    const d3 = await h.coord.next('predictions');
    assert.equal(Number(d3.env.predictions!.deltaBase), 2);
    h.coord.send(d3.conn, { error: { code: 27, message: 'no base held', fatal: false } }, d3.env.seq);
    const f3 = await h.coord.next('predictions');
    assert.equal(Number(f3.env.predictions!.deltaBase ?? 0), 0);
    assert.equal(f3.env.predictions!.payload!.length, 4 * C);
    h.coord.send(f3.conn, { ack: { round: 3, duplicate: false, staleness: 0, weight: 1 } }, f3.env.seq);
    assert.equal((await uploaded).rowsSent, 4);
    assert.deepEqual(
      h.errors.map((e) => e.code),
      ['DELTA_BASE_UNKNOWN'],
    );
    // Targets: full, then a delta against them (row 5 kept, row 9 changed).
    const t1 = Float32Array.of(0.6, 0.3, 0.1, 0.2, 0.5, 0.3);
    const target = (version: number, payload: Uint8Array, deltaBase: number) => ({
      targets: {
        version,
        indices: [5, 9],
        encoding: 3,
        rows: 2,
        classes: C,
        payload,
        contributors: 2,
        deltaBase,
      },
    });
    await playRound(h, 4, target(3, encodePredictions(t1, 2, C, 'uint8'), 0));
    const t2 = Float32Array.of(0.6, 0.3, 0.1, 0.1, 0.1, 0.8);
    const mine = new DeltaRows(C);
    mine.update([5, 9], decodePredictions(encodePredictions(t1, 2, C, 'uint8'), 2, C, 'uint8'), 3);
    const d = encodeDelta(t2, [5, 9], C, 'uint8', mine);
    assert.equal(d.sent, 1);
    await playRound(h, 5, target(4, d.payload, 3));
    assert.deepEqual(h.learner.trains.at(-1)!.targets!.probs, d.values);
    // The refusal at round 3 made the participant forget the rows held before it: rows 5 and
    // 7 (round 2's), which the restarted coordinator never received, travel again rather than
    // being left out and refused again.
    const r6 = await playRound(h, 6, { predictIndices: next });
    assert.equal(Number(r6.up.env.predictions!.deltaBase), 5);
    assert.equal(r6.event.rowsSent, 2);
    assert.deepEqual(
      h.errors.map((e) => e.code),
      ['DELTA_BASE_UNKNOWN'],
    );
  });

  test('derived indices: offered in the Hello; lists left out are rebuilt by the batch rule, and refused when not negotiated', async () => {
    const h = await harness();
    const hello = await join(h, { derivedIndices: true });
    assert.equal(hello.env.hello!.supportsDerivedIndices, true);
    // fakeWelcome: batch size 4, seed 7, a public set of 10.
    const rule = { sampleCount: 10, batchSize: 4, seed: 7 };
    const t = Float32Array.of(0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4);
    const { up } = await playRound(h, 3, { predictIndices: [], indicesDerived: true });
    assert.deepEqual([...h.learner.predicts.at(-1)!], [...publicBatch(rule, 3)], 'predicted on batch(3)');
    assert.equal(up.env.predictions!.rows, 4);
    // Targets of versions 3 and 2 (newest first): their batches merged, duplicates once.
    const merged = mergedBatches(rule, [3, 2]);
    const rows = merged.length;
    const probs = new Float32Array(rows * C);
    for (let r = 0; r < rows; r++) probs.set(t.subarray((r % 4) * C, (r % 4) * C + C), r * C);
    await playRound(h, 4, {
      predictIndices: [],
      indicesDerived: true,
      targets: {
        version: 3,
        indexVersions: [3, 2],
        encoding: 3,
        rows,
        classes: C,
        payload: encodePredictions(probs, rows, C, 'uint8'),
        contributors: 2,
      },
    });
    const trained = h.learner.trains.at(-1)!.targets!;
    assert.deepEqual([...trained.indices], [...merged]);
    assert.deepEqual([...h.learner.predicts.at(-1)!], [...publicBatch(rule, 4)]);
    assert.deepEqual(h.errors, []);
    // Both forms at once is BAD_SHAPE, and the task is not worked on.
    const before = h.learner.trains.length;
    const rejected = h.session.once('error');
    h.coord.send(h.coord.conn, {
      task: { round: 5, mode: 1, predictIndices: INDICES, indicesDerived: true },
    });
    const e = await rejected;
    assert.equal(e.code, 'BAD_SHAPE');
    assert.equal(h.learner.trains.length, before);
  });

  test('derived indices not negotiated: a Task that leaves its list out is BAD_SHAPE', async () => {
    const h = await harness({ derivedIndices: false });
    const hello = await join(h, { derivedIndices: true });
    assert.equal(hello.env.hello!.supportsDerivedIndices, false);
    const rejected = h.session.once('error');
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 1, predictIndices: [], indicesDerived: true } });
    assert.equal((await rejected).code, 'BAD_SHAPE');
    assert.equal(h.learner.trains.length, 0);
  });

  test('stop() when idle sends Leave and closes cleanly', async () => {
    const h = await harness();
    await join(h);
    const closed = await h.session.stop('bye');
    const leave = await h.coord.next('leave');
    assert.equal(leave.env.leave!.reason, 'bye');
    assert.equal(closed.error, undefined);
    assert.equal(h.session.state, 'closed');
  });

  test('stop() while training aborts the step loop, sends Leave and uploads nothing', async () => {
    const h = await harness();
    await join(h);
    h.learner.gated.add(1);
    const started = h.session.once('task');
    h.coord.send(h.coord.conn, { task: { round: 1, mode: 1, predictIndices: INDICES } });
    await started;
    await h.session.stop();
    await h.coord.next('leave');
    assert.equal(h.learner.trains[0]!.signal.aborted, true);
    assert.equal(h.coord.pending('predictions').length, 0);
    assert.deepEqual(h.errors, []);
  });
});
