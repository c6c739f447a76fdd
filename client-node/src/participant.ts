/**
 * A federated run: the ParticipantSession of @mutua/core over a `ws` WebSocket, driving the
 * TensorFlow.js learner on the private data, with the terminal output, metrics lines,
 * checkpoints and exit status of the CLI around it.
 *
 * Lifecycle: prepare (backend, data, model, checkpoint) -> connect -> Welcome -> public set
 * (cached) -> rounds. It ends, always through session.stop() or a fatal session error, when
 * - --max-rounds rounds were acknowledged, or the stop signal fires (Ctrl-C / SIGTERM): the
 *   training step in progress finishes, an upload already sent gets its Ack, Leave is sent,
 *   a checkpoint is saved, the model exported; exit 0;
 * - the coordinator cannot be reached (--connect-attempts before the first Welcome, or the
 *   first failure with --no-retry), or the session hits a fatal error (BAD_TOKEN,
 *   TOKEN_REVOKED, MODEL_MISMATCH, …): exit 2 with the error's code and message.
 * Once joined, dropped connections are retried with exponential backoff without limit (the
 * coordinator restarting is the usual cause), and the session resumes as the same participant.
 */

import { deriveSeed } from '@mutua/core/data';
import { createModel } from '@mutua/core/models';
import {
  type ClosedEvent,
  createTfLearner,
  createWebSocketTransport,
  type Learner,
  type LearnerContext,
  modelSignature,
  ParticipantSession,
  SessionError,
  type WebSocketConstructor,
} from '@mutua/core/session';
import { WebSocket } from 'ws';
import { withAttack } from './attack.ts';
import { CliError } from './cli-error.ts';
import { failoverTransport } from './failover-transport.ts';
import { FileTokenStorage } from './file-token-storage.ts';
import { type MetricsLine, MetricsLog } from './metrics-log.ts';
import { fileSystemHandler, snapshotArtifacts } from './model-files.ts';
import type { ClientOptions } from './options.ts';
import { createPublicSetFetcher, type PublicSetFetchEvent } from './public-set-cache.ts';
import { formatBytes, formatPercent, type Reporter } from './reporter.ts';
import { type Prepared, prepare } from './setup.ts';
import { withSlowdown } from './slowdown.ts';

export const CLIENT_VERSION = 'mutua-client/0.1.0';

/** deriveSeed stream of --attack noise (plus the shard index), apart from the split's. */
const ATTACK_SEED_STREAM = 0x61747400;

export interface RunResult {
  /** 0: left cleanly; 2: the run could not succeed (error says why). */
  exitCode: 0 | 2;
  error?: CliError;
  /** Rounds acknowledged (federated) or trained (local-only) in this run. */
  rounds: number;
}

/** Hints appended to the session's own message, pointing at the option to change. */
function sessionFailure(err: SessionError, o: ClientOptions, p: Prepared): CliError {
  let hint = '';
  switch (err.code) {
    case 'BAD_TOKEN':
    case 'TOKEN_REVOKED':
      hint = ' (check --token; ask the operator for a new join token)';
      break;
    case 'MODEL_MISMATCH':
      hint = ` (this client: --model ${o.model}, samples [${p.data.shape.join('x')}], ${p.data.numClasses} classes from --data; see --shape and --num-classes)`;
      break;
    default:
      break;
  }
  return new CliError(err.code, `${err.message}${hint}`);
}

function describeFetch(e: PublicSetFetchEvent): string {
  if (e.source === 'cache') return `${formatBytes(e.bytes)} from the cache ${e.path}`;
  if (e.source === 'file') return `${formatBytes(e.bytes)} from --public-set-file ${e.path}`;
  const coding = e.contentEncoding === 'identity' ? 'uncompressed' : e.contentEncoding;
  return `${formatBytes(e.bytes)} downloaded from ${e.url} (${formatBytes(e.wireBytes)} on the wire, ${coding})`;
}

export async function runParticipant(
  o: ClientOptions,
  reporter: Reporter,
  stop: AbortSignal,
): Promise<RunResult> {
  if (!o.coordinator || !o.token) throw new CliError('USAGE', '--coordinator and --token are required');
  const p = await prepare(o, reporter);
  const { model, data, checkpoints } = p;
  const metrics = new MetricsLog(o.metricsOut);
  const fetchPublicSet = createPublicSetFetcher({
    cacheDir: o.cacheDir,
    files: o.publicSetFiles,
    onFetched: (e) => reporter.info(`public set: ${describeFetch(e)} (sha256 ${e.sha256.slice(0, 12)}…)`),
    onCorrupt: (c) =>
      reporter.warn(
        `public set: the cached file ${c.path} is corrupt (sha256 ${c.got.slice(0, 12)}…, expected ${c.sha256.slice(0, 12)}…); removed it, downloading it again`,
      ),
  });

  let failure: CliError | undefined;
  let welcomed = false;
  let participantId = '';
  let federationId = '';
  let acked = 0;
  let lastRound = 0;
  let roundsDone = 0;
  let stopping = false;
  let unit = 'round';
  let strategy = '';
  /** The task being worked on, and the round of the last global weights scored. */
  let taskRound = 0;
  let globalRound: number | null = null;
  /** fedavg: --max-rounds reached; leave once the last round's aggregate is scored. */
  let awaitingFinalGlobal = false;

  /** Real training time and slowdown wait of the last training, per round. */
  const timings = new Map<number, { trainMs: number; waitMs: number }>();
  const targetsVersions = new Map<number, number | null>();

  const learnerFactory = async ({ federation, publicSet }: LearnerContext): Promise<Learner> => {
    if (federation.strategy === 'fedavg' && federation.modelArch && federation.modelArch !== o.model) {
      throw new SessionError(
        'MODEL_MISMATCH',
        `this fedavg federation trains ${federation.modelArch}; this client was started with --model ${o.model}`,
        { fatal: true },
      );
    }
    // Resume the model only in the federation it was trained in: the same directory reused
    // for another federation (an experiment rerun) must not start from a trained model.
    let resumed = false;
    if (p.saved?.federationId === federation.id) {
      resumed = await p.restoreCheckpoint();
      if (resumed) {
        lastRound = p.saved.round;
        roundsDone = p.saved.roundsDone;
      }
    } else if (p.saved) {
      reporter.warn(
        `not resuming the model in ${checkpoints.dir}: it was trained ${p.saved.federationId ? `in federation ${p.saved.federationId}` : 'without a coordinator'}; starting afresh`,
      );
    }
    if (federation.strategy === 'fedavg') {
      if (!resumed) {
        // FedAvg participants must start from the same weights: the federation's seed.
        const seeded = createModel(o.model, {
          inputShape: data.shape,
          numClasses: data.numClasses,
          seed: federation.seed,
        });
        try {
          model.setWeights(seeded.getWeights());
        } finally {
          seeded.dispose();
        }
      }
    }
    const learner = createTfLearner({
      model,
      trainDs: data.train,
      valDs: data.val,
      testDs: data.test,
      publicSet,
      settings: p.learnerSettings,
      onGlobalEvaluated: (e) => {
        globalRound = e.round;
        metrics.write({
          event: 'global',
          round: taskRound,
          globalRound: e.round,
          participant: participantId,
          name: o.name ?? null,
          shard: o.shard?.index ?? null,
          globalTestAccuracy: e.accuracy,
          ...session.traffic,
          t: Date.now(),
        });
        reporter.info(`global model of ${unit} ${e.round}: test acc ${formatPercent(e.accuracy)}`);
        if (awaitingFinalGlobal && e.round >= lastRound) {
          reporter.info(`scored the global model of the last ${unit}; leaving`);
          leave(`completed ${acked} rounds`);
        }
      },
    });
    const slowed = withSlowdown(learner, o.slowdown, (round, timing) => timings.set(round, timing));
    if (!o.attack) return slowed;
    if (federation.strategy === 'fedavg') {
      throw new SessionError(
        'LEARNER',
        `--attack ${o.attack} replaces uploaded predictions; this federation runs fedavg, which uploads weights`,
        { fatal: true },
      );
    }
    reporter.warn(`--attack ${o.attack}: uploading poisoned predictions, not this model's`);
    // Each participant its own noise stream, reproducible from --seed.
    const seed =
      o.seed === undefined ? undefined : deriveSeed(o.seed, ATTACK_SEED_STREAM + (o.shard?.index ?? 0));
    return withAttack(slowed, o.attack, federation.numClasses, seed);
  };

  const session = new ParticipantSession({
    url: o.coordinator,
    transport: failoverTransport(
      createWebSocketTransport({ WebSocket: WebSocket as unknown as WebSocketConstructor }),
      o.coordinators ?? [o.coordinator],
    ),
    joinToken: o.token,
    storage: new FileTokenStorage(checkpoints.tokenPath),
    name: o.name,
    kind: 'node',
    clientVersion: CLIENT_VERSION,
    model: {
      arch: o.model,
      inputShape: data.shape,
      numClasses: data.numClasses,
      signature: modelSignature(model),
    },
    learner: learnerFactory,
    fetchPublicSet,
    localEpochs: o.epochs,
    encodings: o.encodings,
    compressions: o.compressions,
    delta: o.delta,
    // The CLI decides when to give up (see 'reconnecting' below).
    reconnect: { maxAttempts: Number.POSITIVE_INFINITY },
  });

  const leave = (reason: string) => {
    if (stopping) return;
    stopping = true;
    void session.stop(reason);
  };
  const state = () => ({
    arch: o.model,
    inputShape: data.shape,
    numClasses: data.numClasses,
    round: lastRound,
    roundsDone,
    participantId,
    federationId,
  });

  session.on('welcome', (w) => {
    participantId = w.participantId;
    federationId = w.federation.id;
    unit = w.federation.mode === 'async' ? 'version' : 'round';
    strategy = w.federation.strategy;
    const uploads =
      w.federation.strategy === 'fedavg'
        ? `weights in ${w.weightEncoding}`
        : `${w.uploadEncoding}${w.compression === 'none' ? '' : `+${w.compression}`}${w.delta ? '+delta' : ''} predictions on ${w.federation.batchSize} public samples per ${unit}`;
    if (welcomed) {
      reporter.info(
        `reconnected to ${o.coordinator} as participant ${w.participantId} (${unit} ${w.currentRound})`,
      );
      return;
    }
    welcomed = true;
    const f = w.federation;
    reporter.info(
      `joined federation "${f.name}" (${f.id}) as participant ${w.participantId}${w.resumed ? ' (resumed)' : ''}: ` +
        `${f.strategy}, ${f.mode}, T=${f.temperature}, lambda=${f.lambda}; uploads ${uploads}`,
    );
  });

  session.on('task', (t) => {
    taskRound = t.round;
    targetsVersions.set(t.round, t.targetsVersion);
    const label = `${unit} ${t.round}${t.targetsVersion === null ? '' : ` (targets v${t.targetsVersion})`}`;
    reporter.startBar(1, { label, epoch: 1, epochs: t.localEpochs, loss: '-' });
  });
  session.on('progress', (e) => {
    reporter.updateBar((e.epoch - 1) * e.batches + e.batch, e.epochs * e.batches, {
      epoch: e.epoch,
      epochs: e.epochs,
      loss: e.loss.toFixed(4),
    });
  });
  session.on('state', (e) => {
    if (e.from === 'training') reporter.stopBar();
  });

  session.on('uploaded', (e) => {
    acked++;
    roundsDone++;
    lastRound = Math.max(lastRound, e.round);
    const m = e.metrics;
    const timing = timings.get(e.round) ?? { trainMs: m.trainMs, waitMs: 0 };
    timings.delete(e.round);
    const targetsVersion = targetsVersions.get(e.round) ?? null;
    targetsVersions.delete(e.round);
    const line: MetricsLine = {
      round: e.round,
      participant: participantId,
      name: o.name ?? null,
      shard: o.shard?.index ?? null,
      trainLoss: m.trainLoss,
      trainAccuracy: m.trainAccuracy ?? null,
      valAccuracy: m.valAccuracy ?? null,
      ...(m.testAccuracy === undefined ? {} : { testAccuracy: m.testAccuracy }),
      ...(m.globalTestAccuracy === undefined
        ? {}
        : { globalTestAccuracy: m.globalTestAccuracy, globalRound: globalRound ?? e.round - 1 }),
      distillLoss: m.distillLoss ?? null,
      samples: m.samples,
      bytesUp: e.bytesUp,
      bytesDown: e.bytesDown,
      uploadBytes: e.frameBytes,
      uploadRows: e.rowsSent,
      staleness: e.ack.staleness,
      weight: e.ack.weight,
      trainMs: timing.trainMs,
      waitMs: timing.waitMs,
      targetsVersion,
      t: Date.now(),
    };
    metrics.write(line);
    reporter.info(
      `${unit} ${e.round}${targetsVersion === null ? '' : ` (targets v${targetsVersion})`}: ` +
        `loss ${m.trainLoss.toFixed(4)}, val acc ${formatPercent(m.valAccuracy)}` +
        (m.testAccuracy === undefined ? '' : `, test acc ${formatPercent(m.testAccuracy)}`) +
        `, up ${formatBytes(e.bytesUp)}, down ${formatBytes(e.bytesDown)}` +
        (e.ack.staleness > 0 ? `, staleness ${e.ack.staleness} (weight ${e.ack.weight.toFixed(2)})` : '') +
        `, train ${(timing.trainMs / 1000).toFixed(1)} s${timing.waitMs > 0 ? ` + ${(timing.waitMs / 1000).toFixed(1)} s slowdown` : ''}` +
        (e.ack.duplicate ? ' (duplicate)' : ''),
    );
    // Snapshotted now, written in the background: the next round may already be training.
    checkpoints.save(model, state()).catch((err: unknown) => {
      reporter.warn(`could not save the checkpoint in ${checkpoints.dir}: ${(err as Error).message}`);
    });
    if (o.maxRounds !== undefined && acked >= o.maxRounds && !awaitingFinalGlobal) {
      if (strategy === 'fedavg' && data.test) {
        // The federation's final model is the aggregate of this round: it arrives with the
        // next task, is scored as it is loaded, and then this participant leaves.
        awaitingFinalGlobal = true;
        reporter.info(
          `completed ${acked} ${unit}${acked === 1 ? '' : 's'}; waiting for the global model of ${unit} ${lastRound} to score it`,
        );
      } else {
        reporter.info(`completed ${acked} ${unit}${acked === 1 ? '' : 's'}; leaving`);
        leave(`completed ${acked} rounds`);
      }
    }
  });

  session.on('error', (err) => {
    if (!err.fatal) reporter.warn(`${err.code}: ${err.message}`);
  });

  session.on('reconnecting', (e) => {
    const attempts = `${e.attempt} attempt${e.attempt === 1 ? '' : 's'}`;
    if (o.noRetry || (!welcomed && e.attempt >= o.connectAttempts)) {
      failure ??= new CliError(
        e.error.code === 'CONNECTION_LOST' && !welcomed ? 'UNREACHABLE' : e.error.code,
        `${e.error.message} (gave up after ${attempts}${o.noRetry ? ', --no-retry' : ''})`,
      );
      leave('giving up');
      return;
    }
    reporter.warn(
      `${e.error.code}: ${e.error.message}; reconnecting in ${(e.delayMs / 1000).toFixed(1)}s (attempt ${e.attempt})`,
    );
  });

  const closed = new Promise<ClosedEvent>((resolve) => session.on('closed', resolve));
  const onStop = () => {
    if (stopping) return;
    reporter.info('stopping: finishing the current step, then leaving (Ctrl-C again to quit at once)');
    leave('participant stopped');
  };
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });

  session.start();
  const end = await closed;
  stop.removeEventListener('abort', onStop);
  reporter.stopBar();
  if (end.error && !failure) failure = sessionFailure(end.error, o, p);

  try {
    await checkpoints.flush();
  } catch (err) {
    reporter.warn(`a checkpoint could not be saved: ${(err as Error).message}`);
  }
  if (failure) return { exitCode: 2, error: failure, rounds: acked };

  await checkpoints.save(model, state());
  reporter.info(`checkpoint: ${checkpoints.dir} (round ${lastRound})`);
  if (p.pruner) {
    reporter.info(
      `pruned: ${(100 * p.pruner.measuredSparsity()).toFixed(1)}% of the kernel weights are zero`,
    );
    p.pruner.dispose();
  }
  if (o.exportDir) {
    await fileSystemHandler(o.exportDir).save(await snapshotArtifacts(model, state()));
    reporter.info(`exported the model to ${o.exportDir} (TF.js layers format: model.json + weights.bin)`);
  }
  model.dispose();
  return { exitCode: 0, rounds: acked };
}
