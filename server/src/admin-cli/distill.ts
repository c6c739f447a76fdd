/**
 * `mutua federation distill FEDERATION --model ARCH --epochs N --out DIR`: the global
 * student of a mutual-distillation federation. Fetches the public set and the consensus
 * targets (the ensemble of all participants) over the admin API, trains a compact model
 * toward them here, on the operator's machine (the coordinator's event loop does no
 * training), writes it with uint8 weights in the TF.js layers format to DIR, and publishes
 * it on the coordinator for download (GET /v1/federations/:id/student/model.json).
 */
import { decodePublicSet } from '@mutua/proto';
import { flag, int, type Parsed, positionals, str } from './args.ts';
import { type Command, type Context, commandLine } from './command.ts';
import { CliError, usage } from './errors.ts';
import { bytes, json, keyValues, percent } from './format.ts';

const ARCHS = ['cnn-tiny', 'mlp-tiny', 'mlp', 'cnn-small', 'cnn-fedavg'] as const;

function number(p: Parsed, name: string, help: string): number | undefined {
  const raw = str(p, name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0)
    throw usage(`--${name} must be a positive number, got "${raw}"`, help);
  return v;
}

function targetsOf(base64: string, rows: number, classes: number): Float32Array {
  const b = Buffer.from(base64, 'base64');
  if (b.byteLength !== rows * classes * 4)
    throw new CliError(
      `the coordinator sent ${b.byteLength} bytes of targets for ${rows}×${classes} float32`,
      'MUTUA_CLI_BAD_TARGETS',
    );
  const out = new Float32Array(rows * classes);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(4 * i);
  return out;
}

const distill: Command = {
  words: ['federation', 'distill'],
  args: 'FEDERATION --out DIR [--model ARCH] [--epochs N] [options]',
  summary:
    "Distill the federation's global student: a compact model trained here on the public set toward the consensus targets (the ensemble of all participants), exported with uint8 weights (TF.js layers format) to DIR and published on the coordinator for download.",
  details: `Options
  --out DIR             where model.json and weights.bin are written (required)
  --model ARCH          ${ARCHS.join(' | ')} (default cnn-tiny, 9k parameters on MNIST)
  --epochs N            passes over the target rows (default 30)
  --temperature T       distillation temperature (default: the federation's, the T of its targets)
  --versions N          read the newest N consensus versions (default 64); a row's target is its newest
  --batch-size N        rows per step (default 32)
  --learning-rate LR    Adam learning rate (default 0.003)
  --seed N              initialisation and row order (default random)
  --eval SPEC           score the exported student on builtin:mnist | builtin:fashion-mnist [:test|:train]
                        (the public set's rows are left out when it is a slice of that split)
  --no-publish          write DIR only; do not upload the student to the coordinator

The download: GET /v1/federations/ID/student/model.json (+ weights.bin beside it), no
token needed, so tf.loadLayersModel('<coordinator>/v1/federations/ID/student/model.json')
loads it in a browser or in Node.

Example
  mutua federation distill digits --model cnn-tiny --epochs 30 --out ./student --eval builtin:mnist`,
  options: {
    out: { type: 'string' },
    model: { type: 'string' },
    epochs: { type: 'string' },
    temperature: { type: 'string' },
    versions: { type: 'string' },
    'batch-size': { type: 'string' },
    'learning-rate': { type: 'string' },
    seed: { type: 'string' },
    eval: { type: 'string' },
    'no-publish': { type: 'boolean' },
  },
  async run(ctx, p) {
    const help = `${commandLine(this)} --help`;
    const [ref] = positionals(p, ['FEDERATION'], help);
    const outDir = str(p, 'out');
    if (!outDir) throw usage('--out DIR is required (where the student is written)', help);
    const arch = str(p, 'model') ?? 'cnn-tiny';
    if (!(ARCHS as readonly string[]).includes(arch))
      throw usage(`--model must be one of ${ARCHS.join(', ')}, got "${arch}"`, help);
    const epochs = int(p, 'epochs', 1, 10_000, help) ?? 30;
    const versions = int(p, 'versions', 1, 1024, help) ?? 64;
    const batchSize = int(p, 'batch-size', 1, 4096, help) ?? 32;
    const seed = int(p, 'seed', 0, 2 ** 32 - 1, help);
    const learningRate = number(p, 'learning-rate', help) ?? 0.003;
    const temperatureFlag = number(p, 'temperature', help);
    const evalSpec = str(p, 'eval');

    const train = await import('./distill-train.ts').catch((err: unknown) => {
      // The container image leaves tfjs out (scripts/runtime-modules.mjs): say where to run it.
      if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
      throw new CliError(
        `distill needs @tensorflow/tfjs, which is not installed here (${(err as Error).message.split('\n')[0]}): run mutua from a checkout after npm ci`,
        'MUTUA_CLI_NO_TFJS',
      );
    });

    const f = await ctx.client.resolveFederation(ref!);
    if (!f.publicSet) throw new CliError(`federation ${f.name} has no public set`, 'MUTUA_CLI_NO_PUBLIC_SET');
    const t = await ctx.client.consensusTargets(f.id, versions);
    const set = decodePublicSet(await ctx.client.download(f.publicSet.url));
    const size = set.shape.reduce((a, b) => a * b, 1);
    const x = new Float32Array(t.rows * size);
    t.indices.forEach((index, r) => {
      if (index >= set.sampleCount)
        throw new CliError(`target row ${index} is outside the public set (${set.sampleCount} samples)`);
      x.set(set.x.subarray(index * size, (index + 1) * size), r * size);
    });
    const temperature = temperatureFlag ?? t.temperature;
    const newest = t.versions[0]?.version ?? 0;
    ctx.note(
      `distilling ${arch} on ${t.rows} public rows (consensus versions ${t.versions.at(-1)?.version}..${newest}, T ${temperature}), ${epochs} epochs`,
    );

    let evalSet: Awaited<ReturnType<typeof train.loadEvalSet>> | undefined;
    if (evalSpec !== undefined) {
      try {
        evalSet = await train.loadEvalSet(evalSpec, f.publicSet.source);
      } catch (err) {
        if (err instanceof RangeError) throw usage(err.message, help);
        throw err;
      }
    }
    const outcome = await train
      .distillStudent({
        arch: arch as (typeof ARCHS)[number],
        x,
        shape: set.shape,
        classes: t.classes,
        targets: targetsOf(t.targets, t.rows, t.classes),
        temperature,
        epochs,
        batchSize,
        learningRate,
        seed,
        test: evalSet?.test,
        outDir,
        metadata: { federationId: f.id, consensusVersion: newest, rows: t.rows, temperature, epochs },
        onBackend: (name, reason) => ctx.note(`backend: ${name} (${reason})`),
        onEpoch: (epoch, kl, ms) => progress(ctx, epoch, epochs, kl, ms),
        signal: ctx.signal,
      })
      .catch((err: unknown) => {
        if (!ctx.signal.aborted) throw err;
        throw new CliError('stopped before the end: nothing published', 'MUTUA_CLI_INTERRUPTED');
      });

    const info = {
      arch,
      encoding: 'uint8',
      epochs,
      temperature,
      params: outcome.params,
      rows: t.rows,
      consensusVersion: newest,
      targetAgreement: outcome.targetAgreement,
      testAccuracy: outcome.testAccuracy ?? null,
      testSet: evalSet?.description ?? null,
    };
    const published = flag(p, 'no-publish')
      ? null
      : await ctx.client.uploadStudent(f.id, {
          model: outcome.modelJson,
          weights: Buffer.from(outcome.weights).toString('base64'),
          info,
        });
    const result = {
      federationId: f.id,
      ...info,
      out: outDir,
      weightBytes: outcome.weightBytes,
      modelJsonBytes: outcome.modelJsonBytes,
      float32Bytes: outcome.float32Bytes,
      published: published && {
        modelUrl: `${ctx.client.baseUrl}${published.modelUrl}`,
        sha256: published.sha256,
      },
    };
    if (ctx.json) return ctx.out(json(result));
    ctx.out(
      keyValues([
        ['federation', `${f.name} (${f.id})`],
        ['model', `${arch}, ${outcome.params} parameters`],
        ['distilled on', `${t.rows} public rows, consensus version ${newest}, T ${temperature}`],
        ['target agreement', percent(outcome.targetAgreement)],
        ...(evalSet
          ? [
              ['test accuracy', `${percent(outcome.testAccuracy)} on ${evalSet.description}`] as [
                string,
                string,
              ],
            ]
          : []),
        [
          'size',
          `${bytes(outcome.weightBytes)} weights.bin (uint8) + ${bytes(outcome.modelJsonBytes)} model.json; float32 would be ${bytes(outcome.float32Bytes)}`,
        ],
        ['written to', outDir],
        ['published', result.published?.modelUrl ?? 'no (--no-publish)'],
      ]),
    );
  },
};

/** A bar redrawn in place on a terminal; one line per tenth of the run otherwise (logs). */
function progress(ctx: Context, epoch: number, epochs: number, kl: number, ms: number): void {
  const width = 24;
  const filled = Math.round((epoch / epochs) * width);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] epoch ${epoch}/${epochs}  T²·KL ${kl.toFixed(4)}  ${(ms / 1000).toFixed(1)} s`;
  if (ctx.progress) ctx.progress(line, epoch === epochs);
  else if (epoch === epochs || epoch % Math.max(1, Math.round(epochs / 10)) === 0) ctx.note(line);
}

export const distillCommands: readonly Command[] = [distill];
