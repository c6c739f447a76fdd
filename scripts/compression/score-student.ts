#!/usr/bin/env node
/**
 * Scores an exported global student (`mutua federation distill --out DIR`) on the test set of
 * a simulation's split — the same held-out samples `npm run simulate` scores FedAvg's global
 * model and the participants on — so the three compare on one split (docs/compression.md).
 *
 *   node --import tsx scripts/compression/score-student.ts DIR --dataset mnist --clients 10 --alpha 0.5 \
 *     --seed 2 --limit 600 --public-size 2000 --test-size 2000
 *
 * The split options are simulate's; the source is capped as simulate caps it
 * (limit × clients + public + test samples). Prints one JSON line.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '@mutua/core/backend-node';
import { evaluate } from '@mutua/core/distill';
import * as tf from '@tensorflow/tfjs';
import { type BuiltinName, loadBuiltinSplit } from '../../client-node/src/data-source.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dataset: { type: 'string', default: 'mnist' },
    clients: { type: 'string', default: '10' },
    alpha: { type: 'string', default: '0.5' },
    seed: { type: 'string', default: '1' },
    limit: { type: 'string' },
    'public-size': { type: 'string', default: '5000' },
    'test-size': { type: 'string', default: '10000' },
  },
});
const dir = positionals[0];
if (!dir || (values.dataset !== 'mnist' && values.dataset !== 'fashion-mnist')) {
  console.error('usage: score-student.ts DIR --dataset mnist|fashion-mnist [simulate split options]');
  process.exit(2);
}
const num = (name: keyof typeof values) => {
  const v = Number(values[name]);
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number, got ${values[name]}`);
  return v;
};
const clients = num('clients');
const publicSize = num('public-size');
const testSize = num('test-size');
const limit = values.limit === undefined ? undefined : num('limit') * clients + publicSize + testSize;

await selectBackend('auto');
const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
const bin = await readFile(join(dir, 'weights.bin'));
const model = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0]!.weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
  }),
);
const split = await loadBuiltinSplit(
  values.dataset as BuiltinName,
  { count: clients, alpha: num('alpha'), seed: num('seed'), publicSize, testSize },
  { limit },
);
const { accuracy } = await evaluate(model, split.test);
console.log(
  JSON.stringify({
    dir,
    params: model.countParams(),
    weightBytes: bin.byteLength,
    testSamples: split.test.n,
    testAccuracy: accuracy,
  }),
);
model.dispose();
