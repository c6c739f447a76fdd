/**
 * The join page's training worker: picks the backend, prepares the private data, builds
 * (or restores) the model and runs core's ParticipantSession with createTfLearner over the
 * browser's WebSocket — the same session and learner as the Node client. It reports to
 * the page through messages.ts and keeps what a resume needs in IndexedDB (store.ts):
 * the resume token (through the session's TokenStorage), the data set, and the weights
 * after every acknowledged round.
 */
import { describeFailure } from '@mutua/core/backend';
import type { Dataset } from '@mutua/core/data';
import { countParams, createModel, type ModelArch } from '@mutua/core/models';
import {
  createTfLearner,
  createWebSocketTransport,
  type Learner,
  type LearnerContext,
  modelSignature,
  ParticipantSession,
  type SessionError,
} from '@mutua/core/session';
import * as tf from '@tensorflow/tfjs';
import { sha256Hex } from '../shared/sha256.ts';
import { chooseBackend } from './backend.ts';
import {
  DataFitError,
  loadCsv,
  loadDemo,
  loadImages,
  type Prepared,
  perClass,
  splitValidation,
} from './data.ts';
import type { ErrorReport, PageToWorker, StartCommand, WorkerToPage } from './messages.ts';
import { ModelChoiceError, pickModel } from './pick-model.ts';
import * as store from './store.ts';

const scope = self as unknown as {
  postMessage(message: WorkerToPage): void;
  onmessage: ((event: MessageEvent<PageToWorker>) => void) | null;
};
const post = (message: WorkerToPage) => scope.postMessage(message);

let session: ParticipantSession | null = null;
let model: tf.LayersModel | null = null;
let stopping = false;
let started = false;

scope.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === 'start') {
    if (started) return;
    started = true;
    run(msg).catch((err: unknown) => finish(report(err, 'session', true)));
  } else if (msg.type === 'stop') {
    void stop(msg.reason);
  }
};

function report(err: unknown, stage: ErrorReport['stage'], fatal: boolean): ErrorReport {
  if (err instanceof DataFitError) return { code: err.code, message: err.message, fatal, stage: 'data' };
  if (err instanceof ModelChoiceError)
    return { code: 'MODEL_CHOICE', message: err.message, fatal, stage: 'model' };
  const se = err as Partial<SessionError>;
  if (se?.name === 'SessionError' && typeof se.code === 'string') {
    return {
      code: se.code,
      message: se.message ?? String(err),
      fatal: se.fatal ?? fatal,
      stage,
      retryInMs: se.retryAfterMs || undefined,
    };
  }
  return { code: stage === 'data' ? 'DATA_ERROR' : 'ERROR', message: describeFailure(err), fatal, stage };
}

function finish(error?: ErrorReport): void {
  model?.dispose();
  model = null;
  post(error ? { type: 'closed', error } : { type: 'closed' });
}

async function prepareData(cmd: StartCommand): Promise<Prepared> {
  const d = cmd.data;
  switch (d.kind) {
    case 'demo':
      return loadDemo(cmd.origin, cmd.joinToken, d.samples, cmd.task);
    case 'csv':
      return loadCsv(d.file, cmd.task);
    case 'images':
      return loadImages(d.files, cmd.task);
    case 'stored': {
      const kept = await store.get<store.StoredDataset>('datasets', cmd.storageKey);
      if (!kept)
        throw new DataFitError(
          'DATA_EMPTY',
          'the data of your earlier visit is no longer stored: choose it again',
        );
      return { ds: { ...kept }, source: kept.source };
    }
  }
}

async function restoreWeights(key: string, arch: ModelArch, m: tf.LayersModel): Promise<number | null> {
  const kept = await store.get<store.StoredWeights>('weights', key);
  if (!kept || kept.arch !== arch) return null;
  const weights = m.getWeights();
  const fits =
    kept.values.length === weights.length &&
    weights.every((w, i) => w.shape.join('x') === kept.shapes[i]?.join('x'));
  if (!fits) return null;
  const tensors = kept.values.map((v, i) => tf.tensor(v, kept.shapes[i]));
  m.setWeights(tensors);
  for (const t of tensors) t.dispose();
  return kept.round;
}

/** A consistent snapshot (dataSync reads now, between training steps) saved without blocking training. */
function saveWeights(key: string, arch: ModelArch, m: tf.LayersModel, round: number): Promise<void> {
  const weights = m.getWeights();
  const value: store.StoredWeights = {
    arch,
    round,
    shapes: weights.map((w) => [...w.shape]),
    values: weights.map((w) => Float32Array.from(w.dataSync() as Float32Array)),
  };
  return store.put('weights', key, value);
}

async function fetchPublicSet(url: string, sha256: string): Promise<Uint8Array> {
  const cached = await store.get<Uint8Array>('public-sets', sha256).catch(() => undefined);
  if (cached) return cached;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const got = await sha256Hex(bytes);
  if (got !== sha256)
    throw new Error(`the public set's sha256 is ${got}, the coordinator announced ${sha256}`);
  await store.put('public-sets', sha256, bytes).catch(() => undefined);
  return bytes;
}

async function run(cmd: StartCommand): Promise<void> {
  const key = cmd.storageKey;
  const backend = await chooseBackend(cmd.origin);
  post({ type: 'backend', backend });
  if (stopping) return finish();

  let prepared: Prepared;
  try {
    prepared = await prepareData(cmd);
  } catch (err) {
    finish(report(err, 'data', true));
    return;
  }
  const ds: Dataset = prepared.ds;
  if (cmd.data.kind !== 'stored') {
    const kept: store.StoredDataset = {
      x: ds.x,
      y: ds.y,
      n: ds.n,
      shape: [...ds.shape],
      numClasses: ds.numClasses,
      source: prepared.source,
    };
    await store.put('datasets', key, kept);
  }
  if (stopping) return finish();
  const { train, validation } = splitValidation(ds);
  post({
    type: 'data',
    data: {
      source: prepared.source,
      train: train.n,
      validation: validation?.n ?? 0,
      perClass: perClass(train, cmd.task.numClasses),
    },
  });

  const previous = await store.get<store.ParticipantRecord>('participants', key);
  let picked: { arch: ModelArch; reason: string };
  try {
    picked =
      cmd.data.kind === 'stored' && previous
        ? { arch: previous.arch, reason: 'the model of your earlier visit' }
        : pickModel({
            inputShape: cmd.task.inputShape,
            requiredArch: cmd.requiredArch,
            choice: cmd.arch,
            backend: backend.name,
            cores: cmd.device.cores,
            memoryGb: cmd.device.memoryGb,
          });
  } catch (err) {
    finish(report(err, 'model', true));
    return;
  }
  const { arch } = picked;
  const m = createModel(arch, { inputShape: cmd.task.inputShape, numClasses: cmd.task.numClasses });
  model = m;
  const restoredRound = await restoreWeights(key, arch, m).catch(() => null);
  post({
    type: 'model',
    arch,
    params: countParams(m),
    reason: picked.reason,
    restored: restoredRound !== null,
  });

  const batchSize = 32;
  const factory = async (context: LearnerContext): Promise<Learner> => {
    if (context.federation.strategy === 'fedavg' && restoredRound === null) {
      // FedAvg starts every participant from the same weights.
      const seeded = createModel(arch, {
        inputShape: cmd.task.inputShape,
        numClasses: cmd.task.numClasses,
        seed: context.federation.seed,
      });
      m.setWeights(seeded.getWeights());
      seeded.dispose();
    }
    const inner = createTfLearner({
      model: m,
      trainDs: train,
      valDs: validation,
      publicSet: context.publicSet,
      settings: { batchSize, predictBatchSize: 128 },
    });
    return {
      modelSignature: inner.modelSignature,
      numSamples: inner.numSamples,
      getWeights: () => inner.getWeights(),
      setWeights: (w) => inner.setWeights(w),
      predict: (indices, temperature) => inner.predict(indices, temperature),
      dispose: () => inner.dispose(),
      train: (args) => {
        post({
          type: 'task',
          round: args.round,
          localEpochs: args.localEpochs,
          targetsVersion: args.targets?.version ?? null,
          contributors: args.targets?.contributors ?? 0,
        });
        // An epoch starts when the previous one's last batch ended (or training began), not
        // at its own first report: that made the first rate samples / ~0 s (millions per second).
        let epochStart = performance.now();
        let lastReport = epochStart;
        let lastEpoch = 1;
        return inner.train({
          ...args,
          onProgress: (p) => {
            const now = performance.now();
            if (p.epoch !== lastEpoch) {
              lastEpoch = p.epoch;
              epochStart = lastReport;
            }
            lastReport = now;
            const seconds = (now - epochStart) / 1000;
            const samples = Math.min(p.batch * batchSize, train.n);
            post({
              type: 'progress',
              round: args.round,
              epoch: p.epoch,
              epochs: p.epochs,
              batch: p.batch,
              batches: p.batches,
              loss: p.loss,
              samples,
              seconds,
            });
            args.onProgress(p);
          },
        });
      },
    };
  };

  const s = new ParticipantSession({
    url: cmd.wsUrl,
    transport: createWebSocketTransport(),
    joinToken: cmd.joinToken,
    storage: store.tokenStorage,
    storageKey: key,
    name: cmd.name || 'browser participant',
    kind: 'browser',
    clientVersion: 'mutua-web/0.1.0',
    model: {
      arch,
      inputShape: cmd.task.inputShape,
      numClasses: cmd.task.numClasses,
      signature: cmd.requiredArch ? modelSignature(m) : undefined,
    },
    learner: factory,
    fetchPublicSet,
  });
  if (stopping) return finish();
  session = s;
  let rounds = previous?.rounds ?? 0;
  let record: store.ParticipantRecord | null = null;

  s.on('state', (e) => post({ type: 'state', state: e.to }));
  s.on('welcome', (w) => {
    record = {
      participantId: w.participantId,
      federationId: w.federation.id,
      arch,
      active: true,
      dataSource: prepared.source,
      rounds,
      updatedAt: Date.now(),
    };
    void store.put('participants', key, record);
    post({
      type: 'welcome',
      participantId: w.participantId,
      resumed: w.resumed,
      round: w.currentRound,
      mode: w.federation.mode,
      payload: [
        w.uploadEncoding,
        w.compression === 'none' ? '' : w.compression,
        w.delta ? 'delta' : '',
        w.batchRule ? 'derived indices' : '',
      ]
        .filter(Boolean)
        .join(' + '),
    });
  });
  s.on('uploaded', (u) => {
    rounds++;
    post({
      type: 'uploaded',
      round: u.round,
      staleness: u.ack.staleness,
      weight: u.ack.weight,
      duplicate: u.ack.duplicate,
      bytesUp: u.bytesUp,
      bytesDown: u.bytesDown,
      uploadBytes: u.frameBytes,
      uploadRows: u.rowsSent ?? null,
      trainLoss: u.metrics.trainLoss,
      trainAccuracy: u.metrics.trainAccuracy ?? null,
      valAccuracy: u.metrics.valAccuracy ?? null,
      trainMs: u.metrics.trainMs,
      samples: u.metrics.samples,
    });
    if (record) {
      record = { ...record, rounds, updatedAt: Date.now() };
      void store.put('participants', key, record);
    }
    void saveWeights(key, arch, m, u.round).catch((err: unknown) =>
      post({
        type: 'error',
        error: {
          code: 'STORAGE',
          message: `could not keep the model: ${describeFailure(err)}`,
          fatal: false,
          stage: 'session',
        },
      }),
    );
  });
  s.on('round-closed', (r) => post({ type: 'round-closed', ...r }));
  s.on('error', (err) => {
    if (!err.fatal) post({ type: 'error', error: report(err, 'session', false) });
  });
  s.on('reconnecting', (r) =>
    post({
      type: 'reconnecting',
      attempt: r.attempt,
      delayMs: r.delayMs,
      error: report(r.error, 'session', false),
    }),
  );
  s.on('closed', (c) => {
    const done = async () => {
      if (record && (stopping || c.error)) {
        // Left on purpose (or cannot go on): the next visit asks before joining again.
        await store
          .put('participants', key, { ...record, active: false, updatedAt: Date.now() })
          .catch(() => undefined);
      }
      finish(c.error ? report(c.error, 'session', true) : undefined);
    };
    void done();
  });
  s.start();
}

async function stop(reason = 'the participant left'): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (session) await session.stop(reason);
  // Otherwise run() notices `stopping` at its next step and finishes; if it never started, finish now.
  else if (!started) finish();
}
