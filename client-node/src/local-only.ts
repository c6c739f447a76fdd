/**
 * --local-only --rounds R: the baseline every federated method is compared with. The same
 * data, model, seeds and training loop as a federated participant, without a coordinator:
 * no public set and no KL term, R rounds of --epochs local epochs each, the same metrics
 * lines (bytes 0, staleness 0, weight 1), checkpoints and export. Every run starts from a
 * fresh model (rounds 1..R), so that a baseline is never a continuation of an earlier
 * run; the checkpoint it writes is for inspection and export.
 */
import { createTfLearner } from '@mutua/core/session';
import { type MetricsLine, MetricsLog } from './metrics-log.ts';
import { fileSystemHandler, snapshotArtifacts } from './model-files.ts';
import type { ClientOptions } from './options.ts';
import type { RunResult } from './participant.ts';
import { formatPercent, type Reporter } from './reporter.ts';
import { prepare } from './setup.ts';

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

export async function runLocalOnly(
  o: ClientOptions,
  reporter: Reporter,
  stop: AbortSignal,
): Promise<RunResult> {
  const p = await prepare(o, reporter);
  const { model, data, checkpoints } = p;
  const metrics = new MetricsLog(o.metricsOut);
  const learner = createTfLearner({
    model,
    trainDs: data.train,
    valDs: data.val,
    testDs: data.test,
    settings: p.learnerSettings,
  });
  const epochs = o.epochs ?? 1;
  const first = 1;
  let lastRound = 0;
  let roundsDone = 0;
  let trained = 0;
  const participant = o.name ?? 'local';
  const state = () => ({
    arch: o.model,
    inputShape: data.shape,
    numClasses: data.numClasses,
    round: lastRound,
    roundsDone,
  });
  const onStop = () => reporter.info('stopping: finishing the current step (Ctrl-C again to quit at once)');
  stop.addEventListener('abort', onStop, { once: true });

  try {
    for (let round = first; round < first + o.rounds && !stop.aborted; round++) {
      reporter.startBar(1, { label: `local round ${round}`, epoch: 1, epochs, loss: '-' });
      const started = performance.now();
      let m: Awaited<ReturnType<typeof learner.train>>;
      try {
        m = await learner.train({
          round,
          temperature: 1,
          lambda: 0,
          localEpochs: epochs,
          signal: stop,
          onProgress: (e) =>
            reporter.updateBar((e.epoch - 1) * e.batches + e.batch, e.epochs * e.batches, {
              epoch: e.epoch,
              epochs: e.epochs,
              loss: e.loss.toFixed(4),
            }),
        });
      } catch (err) {
        if (isAbort(err) || stop.aborted) break;
        throw err;
      }
      reporter.stopBar();
      const trainMs = Math.round(performance.now() - started);
      trained++;
      roundsDone++;
      lastRound = round;
      const line: MetricsLine = {
        round,
        participant,
        name: o.name ?? null,
        shard: o.shard?.index ?? null,
        trainLoss: m.trainLoss,
        trainAccuracy: m.trainAccuracy ?? null,
        valAccuracy: m.valAccuracy ?? null,
        ...(m.testAccuracy === undefined ? {} : { testAccuracy: m.testAccuracy }),
        distillLoss: m.distillLoss ?? null,
        samples: m.samples,
        bytesUp: 0,
        bytesDown: 0,
        staleness: 0,
        weight: 1,
        trainMs,
        waitMs: 0,
        targetsVersion: null,
        t: Date.now(),
      };
      metrics.write(line);
      reporter.info(
        `local round ${round}: loss ${m.trainLoss.toFixed(4)}, val acc ${formatPercent(m.valAccuracy)}` +
          (m.testAccuracy === undefined ? '' : `, test acc ${formatPercent(m.testAccuracy)}`) +
          `, train ${(trainMs / 1000).toFixed(1)} s`,
      );
      await checkpoints.save(model, state());
    }
  } finally {
    stop.removeEventListener('abort', onStop);
    reporter.stopBar();
    learner.dispose();
  }
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
  return { exitCode: 0, rounds: trained };
}
