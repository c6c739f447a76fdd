/**
 * Delta payloads on a real model's drift: one participant trains an MLP on MNIST (2,000
 * training images, one epoch a round, Adam lr 1e-3, batch 32) and after each round predicts
 * the same 512 public images (MNIST test[0:512], T = 3). Per encoding, the bytes of each
 * round's upload sent full and as a delta against the previous round (threshold 0 and 0.05),
 * plain and raw-deflated. No distillation term: a participant alone, so this is the drift
 * of local training only.
 *
 *   node --import tsx core/bench/delta-mnist.ts [--rounds 6] [--json]
 */
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { DeltaRows, encodeDelta, encodePredictions, PREDICTION_ENCODINGS } from '@mutua/proto';
import { selectBackend } from '../src/backend-node.ts';
import { loadMnist } from '../src/data/node/index.ts';
import { predictPublic, Trainer } from '../src/distill.ts';
import { createModel } from '../src/models.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '6' }, json: { type: 'boolean', default: false } },
});
const rounds = Number(values.rounds);
const PUBLIC = 512;
const C = 10;
const T = 3;
const THRESHOLDS = [0, 0.05];

await selectBackend('auto');
const train = await loadMnist({ split: 'train', limit: 2000 });
const test = await loadMnist({ split: 'test', limit: PUBLIC });
const model = createModel('mlp', { inputShape: [28, 28, 1], numClasses: C, seed: 1 });
const trainer = new Trainer(model, { learningRate: 1e-3 });
const indices = Uint32Array.from({ length: PUBLIC }, (_, i) => i);
const held = new Map<string, DeltaRows>();
type Row = {
  round: number;
  enc: string;
  threshold: number | null;
  bytes: number;
  deflated: number;
  rows: number;
};
const out: Row[] = [];
for (let round = 1; round <= rounds; round++) {
  await trainer.trainEpoch(train, { batchSize: 32, seed: round });
  const probs = await predictPublic(model, test.x, test.shape, T);
  for (const enc of PREDICTION_ENCODINGS) {
    const opts = { k: 3 };
    const full = encodePredictions(probs, PUBLIC, C, enc, opts);
    out.push({
      round,
      enc,
      threshold: null,
      bytes: full.length,
      deflated: deflateRawSync(full).length,
      rows: PUBLIC,
    });
    for (const threshold of THRESHOLDS) {
      const key = `${enc}/${threshold}`;
      const base = held.get(key) ?? new DeltaRows(C);
      held.set(key, base);
      const d = encodeDelta(probs, indices, C, enc, base, { ...opts, threshold });
      // What a sender does: the full payload when the delta is no smaller (and always in round 1).
      const whole = base.version === 0 || d.full.payload.length <= d.payload.length;
      const payload = whole ? d.full.payload : d.payload;
      base.update(indices, whole ? d.full.values : d.values, round);
      out.push({
        round,
        enc,
        threshold,
        bytes: payload.length,
        deflated: deflateRawSync(payload).length,
        rows: whole ? PUBLIC : d.sent,
      });
    }
  }
  console.error(`round ${round} done`);
}
trainer.dispose();
model.dispose();
if (values.json) console.log(JSON.stringify(out));
else {
  console.log(
    `bytes per round (plain/deflated, rows sent) of ${PUBLIC} x ${C} predictions; full | delta t=0 | delta t=0.05`,
  );
  for (const enc of PREDICTION_ENCODINGS) {
    const cells = (threshold: number | null) =>
      out
        .filter((r) => r.enc === enc && r.threshold === threshold)
        .map((r) => `${r.bytes}/${r.deflated}${threshold === null ? '' : ` (${r.rows})`}`)
        .join(' ');
    console.log(`${enc.padEnd(8)} full: ${cells(null)}`);
    for (const th of THRESHOLDS) console.log(`${''.padEnd(8)} t=${th}: ${cells(th)}`);
  }
}
