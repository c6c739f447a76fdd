/**
 * The local mutual-learning experiment: for each seed, (1) each distinct cohort model trained
 * alone, (2) a teacher trained alone then distilled one-way into each student, (3) the
 * cohort trained mutually, all on the same data, epochs, shuffles and initial weights (a
 * student starts from the same weights in every setting). Training runs on the wasm backend
 * through core's Trainer and cohort loop (the federation's loss); optional pruning and
 * quantized export apply to the students.
 */
import { selectBackend } from '@mutua/core/backend-node';
import {
  type CohortMode,
  kernelSparsity,
  MagnitudePruner,
  teacherTargets,
  trainCohortEpoch,
} from '@mutua/core/compress';
import { type Dataset, loadFashionMnist, loadMnist, take } from '@mutua/core/data-node';
import { evaluate, Trainer } from '@mutua/core/distill';
import { createModel, type ModelArch } from '@mutua/core/models';
import type * as tf from '@tensorflow/tfjs';
import { CliError } from '../cli-error.ts';
import { type ExportResult, exportVariants } from '../quantized-export.ts';
import type { Reporter } from '../reporter.ts';
import type { LocalMutualOptions } from './options.ts';

export type Setting = 'alone' | 'teacher' | 'one-way' | 'mutual';

export interface MemberResult {
  dataset: string;
  setting: Setting;
  /** The group trained together, e.g. "mutual(mlp-tiny,cnn-tiny)". */
  group: string;
  arch: ModelArch;
  member: number;
  seed: number;
  accuracy: number;
  loss: number;
  params: number;
  /** Fraction of exact zeros in the kernels. */
  sparsity: number;
  trainMs: number;
  exports?: ExportResult[];
}

interface Group {
  setting: Setting;
  archs: ModelArch[];
  /** Initial-weight seeds, one per member. */
  inits: number[];
  epochs: number;
  /** One-way: the teacher's tempered predictions on every training row (computed once). */
  teacherProbs?: Float32Array;
  prune: boolean;
}

export async function loadData(o: LocalMutualOptions): Promise<{ train: Dataset; test: Dataset }> {
  const load = o.dataset === 'mnist' ? loadMnist : loadFashionMnist;
  const [train, test] = await Promise.all([load({ split: 'train' }), load({ split: 'test' })]);
  return { train: take(train, o.trainSize), test: take(test, o.testSize) };
}

export async function runLocalMutual(
  o: LocalMutualOptions,
  reporter: Reporter,
  stop: AbortSignal,
): Promise<MemberResult[]> {
  const backend = await selectBackend('wasm');
  if (backend.name !== 'wasm') {
    throw new CliError('ERR_BACKEND_UNAVAILABLE', `training needs the wasm backend: ${backend.reason}`);
  }
  const { train, test } = await loadData(o);
  reporter.info(
    `local mutual learning on ${o.dataset}: ${train.n} training and ${test.n} test samples, ` +
      `cohort ${o.cohort.join(',')}, ${o.epochs} epochs, T=${o.temperature}, λ=${o.lambda}, ` +
      `seeds ${o.seeds.join(',')}${o.prune === undefined ? '' : `, pruned to ${o.prune}`} (wasm)`,
  );
  const distinct = [...new Set(o.cohort)];
  const results: MemberResult[] = [];
  for (const seed of o.seeds) {
    const init = (member: number) => seed * 1000 + member;
    const groups: Group[] = [];
    if (o.alone) {
      for (const a of distinct) {
        groups.push({
          setting: 'alone',
          archs: [a],
          inits: [init(o.cohort.indexOf(a))],
          epochs: o.epochs,
          prune: true,
        });
      }
    }
    if (o.teacher) {
      const g: Group = {
        setting: 'teacher',
        archs: [o.teacher],
        inits: [init(999)],
        epochs: o.teacherEpochs,
        prune: false,
      };
      // The teacher is fixed from here on: its tempered predictions on the training rows
      // are computed once and are every one-way student's targets.
      const [teacher] = await trainGroup(o, g, seed, train, test, reporter, stop, results, true);
      let teacherProbs: Float32Array;
      try {
        teacherProbs = await teacherTargets(teacher!, train, o.temperature);
      } finally {
        teacher!.dispose();
      }
      for (const a of distinct) {
        groups.push({
          setting: 'one-way',
          archs: [a],
          inits: [init(o.cohort.indexOf(a))],
          epochs: o.epochs,
          teacherProbs,
          prune: true,
        });
      }
    }
    groups.push({
      setting: 'mutual',
      archs: o.cohort,
      inits: o.cohort.map((_, i) => init(i)),
      epochs: o.epochs,
      prune: true,
    });
    for (const g of groups) await trainGroup(o, g, seed, train, test, reporter, stop, results, false);
  }
  return results;
}

/** Trains one group, scores (and exports) its members; returns the models when `keep`. */
async function trainGroup(
  o: LocalMutualOptions,
  g: Group,
  seed: number,
  train: Dataset,
  test: Dataset,
  reporter: Reporter,
  stop: AbortSignal,
  results: MemberResult[],
  keep: boolean,
): Promise<tf.LayersModel[]> {
  const label = g.setting === 'mutual' ? `mutual(${g.archs.join(',')})` : `${g.setting}(${g.archs[0]})`;
  const models = g.archs.map((a, i) =>
    createModel(a, { inputShape: train.shape, numClasses: train.numClasses, seed: g.inits[i]! }),
  );
  const steps = g.epochs * Math.ceil(train.n / o.batchSize);
  const pruners = models.map((m) =>
    o.prune !== undefined && g.prune ? new MagnitudePruner(m, schedule(o, steps)) : null,
  );
  const trainers = models.map(
    (m, i) =>
      new Trainer(m, {
        learningRate: o.learningRate,
        ...(pruners[i] ? { afterStep: () => pruners[i]!.afterStep() } : {}),
      }),
  );
  const mode: CohortMode = g.setting === 'mutual' ? 'mutual' : g.setting === 'one-way' ? 'teacher' : 'alone';
  const started = performance.now();
  try {
    reporter.startBar(steps, { label: `seed ${seed} ${label}`, epoch: 1, epochs: g.epochs, loss: '-' });
    for (let epoch = 0; epoch < g.epochs; epoch++) {
      await trainCohortEpoch(trainers, train, {
        mode,
        ...(g.teacherProbs ? { teacherProbs: g.teacherProbs } : {}),
        temperature: o.temperature,
        lambda: o.lambda,
        batchSize: o.batchSize,
        seed: seed * 7919 + epoch,
        signal: stop,
        onBatch: (p) =>
          reporter.updateBar(epoch * p.batches + p.batch, steps, {
            epoch: epoch + 1,
            loss: p.loss.toFixed(4),
          }),
      });
    }
    reporter.stopBar();
    const trainMs = Math.round(performance.now() - started);
    for (const [i, model] of models.entries()) {
      const ev = await evaluate(model, test);
      const r: MemberResult = {
        dataset: o.dataset,
        setting: g.setting,
        group: label,
        arch: g.archs[i]!,
        member: i,
        seed,
        accuracy: ev.accuracy,
        loss: ev.loss,
        params: model.countParams(),
        sparsity: kernelSparsity(model),
        trainMs,
      };
      if (o.exportDir && g.setting !== 'teacher') {
        const dir = `${o.exportDir}/${o.dataset}/seed${seed}/${g.setting}-${g.archs.join('+')}/${i}-${g.archs[i]}`;
        r.exports = await exportVariants(model, dir, test, { setting: g.setting, arch: g.archs[i], seed });
      }
      results.push(r);
      reporter.info(
        `seed ${seed} ${label} member ${i} ${g.archs[i]}: test accuracy ${(100 * ev.accuracy).toFixed(2)}%` +
          (o.prune !== undefined && g.prune ? `, sparsity ${(100 * r.sparsity).toFixed(1)}%` : ''),
      );
    }
    return keep ? models : [];
  } finally {
    reporter.stopBar();
    for (const t of trainers) t.dispose();
    for (const p of pruners) p?.dispose();
    if (!keep) for (const m of models) m.dispose();
  }
}

function schedule(o: LocalMutualOptions, steps: number) {
  const beginStep = Math.floor(o.pruneBegin * steps);
  const endStep = Math.max(beginStep + 1, Math.floor(o.pruneEnd * steps) - 1);
  return {
    initialSparsity: 0,
    finalSparsity: o.prune!,
    beginStep,
    endStep,
    frequency: Math.max(1, Math.round((endStep - beginStep) / 10)),
  };
}
