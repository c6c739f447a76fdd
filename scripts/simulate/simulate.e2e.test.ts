// The harness end to end, as a user runs it: `scripts/simulate/simulate.ts` as a process,
// which starts the real coordinator and three real mutua-client processes per method on
// a small MNIST split. Mutual distillation must end above local-only on the same split,
// the coordinator must have counted bytes, the result files must be there, and no
// process may be left behind — after a normal end and after Ctrl-C.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { base, processesUnder, QUICK, runHarness } from './e2e-harness.ts';
import type { SimulationReport } from './output.ts';
import type { SummaryJson } from './summary-json.ts';

describe('npm run simulate, end to end', { timeout: 8 * 60_000 }, () => {
  it('mutual distillation beats local-only on the same split; bytes counted; files written; nothing left running', async (t) => {
    const tmp = mkdtempSync(join(base, 'run-'));
    const out = join(base, 'out');
    const run = await runHarness([...QUICK, '--methods', 'local-only,mutual-sync', '--out', out], tmp);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(processesUnder(tmp), [], 'no coordinator or participant outlives the harness');
    assert.match(run.stderr, /\d+% \d+\/36 /, 'a progress bar was shown');

    for (const f of [
      'results.json',
      'rounds.csv',
      'timeline.csv',
      'records.csv',
      'summary.md',
      'accuracy-vs-round.svg',
      'accuracy-vs-mb.svg',
      'accuracy-vs-time.svg',
    ]) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }
    for (const f of ['accuracy-vs-round.svg', 'accuracy-vs-mb.svg', 'accuracy-vs-time.svg']) {
      const svg = readFileSync(join(out, f), 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /<polyline /, `${f} has a line`);
      assert.doesNotMatch(svg, /NaN/);
    }

    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationReport;
    const local = report.results.find((r) => r.method === 'local-only')!;
    const mutual = report.results.find((r) => r.method === 'mutual-sync')!;
    for (const r of [local, mutual]) {
      assert.deepEqual(r.errors, [], `${r.method} ran without errors`);
      assert.equal(r.records.length, 3 * 6, `${r.method}: every participant reported every round`);
      assert.equal(r.rounds.length, 6);
    }
    const gain = mutual.summary!.final.mean - local.summary!.final.mean;
    t.diagnostic(
      `final mean test accuracy: local-only ${local.summary!.final.mean.toFixed(4)}, mutual-sync ${mutual.summary!.final.mean.toFixed(4)}`,
    );
    assert.ok(
      gain > 0.02,
      `mutual-sync ${mutual.summary!.final.mean} must beat local-only ${local.summary!.final.mean} on the same split`,
    );

    // Bytes as the coordinator counted them: both directions, growing round by round, and
    // in agreement with what the participants say they sent.
    const s = mutual.summary!;
    assert.ok(s.bytesUp > 0 && s.bytesDown > 0, `bytes counted: ${s.bytesUp} up, ${s.bytesDown} down`);
    assert.equal(s.versions, 6, 'six rounds closed on the coordinator');
    const cumulative = mutual.rounds.map((p) => p.bytesUp + p.bytesDown);
    assert.ok(
      cumulative.every((b, i) => i === 0 || b >= cumulative[i - 1]!),
      `cumulative bytes never decrease: ${cumulative}`,
    );
    assert.ok(cumulative.at(-1)! > cumulative[0]!);
    const lastUp = [0, 1, 2].map((p) =>
      Math.max(...mutual.records.filter((r) => r.p === p).map((r) => r.bytesUp)),
    );
    const clientUp = lastUp.reduce((a, b) => a + b, 0);
    assert.ok(
      Math.abs(clientUp - s.bytesUp) <= 0.1 * s.bytesUp,
      `participants say they sent ${clientUp} B, the coordinator counted ${s.bytesUp} B`,
    );
    assert.equal(local.summary!.bytesUp + local.summary!.bytesDown, 0, 'local-only moves nothing');
    // The public set counts as the coordinator sent it: three compressed downloads, each
    // smaller than the uncompressed file (MNIST digits compress about 5x).
    const file = report.info.publicSetBytes;
    assert.equal(s.publicSetOnWire, true, 'the public set was counted on the wire');
    assert.ok(
      s.publicSetBytes > 0 && s.publicSetBytes < 3 * file * 0.5,
      `public set: ${s.publicSetBytes} B sent for three participants, ${file} B uncompressed each`,
    );

    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    assert.match(summary, /^\| local-only \| /m);
    assert.match(summary, /^\| mutual-sync \| /m);
    assert.match(summary, /mutual-sync vs local-only: \+/);
    const rounds = readFileSync(join(out, 'rounds.csv'), 'utf8').trim().split('\n');
    assert.equal(rounds.length, 1 + 2 * 6);
  });

  it('FedAvg (8-bit weights) is scored on its global model every round and at the end; centralised is one process', async () => {
    const tmp = mkdtempSync(join(base, 'fedavg-'));
    const out = join(base, 'out-fedavg');
    const run = await runHarness(
      [...QUICK, '--rounds', '2', '--methods', 'centralised,fedavg-u8', '--out', out, '--no-progress'],
      tmp,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(processesUnder(tmp), [], 'no coordinator or participant outlives the harness');
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationReport;
    const central = report.results.find((r) => r.method === 'centralised')!;
    assert.deepEqual(central.errors, []);
    assert.equal(central.participants.length, 1, 'one model on the union of the shards');
    assert.equal(central.records.length, 2);
    const fed = report.results.find((r) => r.method === 'fedavg-u8')!;
    assert.deepEqual(fed.errors, []);
    assert.equal(fed.encoding, 'uint8');
    assert.equal(fed.globalAccuracy, true);
    // Global models of rounds 1 and 2, each scored by all three participants: round 2's
    // (the final aggregate) before they left.
    assert.deepEqual(
      fed.rounds.map((p) => [p.round, p.n]),
      [
        [1, 3],
        [2, 3],
      ],
    );
    const s = fed.summary!;
    assert.equal(s.final.min, s.final.max, 'every participant loads the same global model');
    assert.ok(s.final.mean > 0.5, `the global model learned: ${s.final.mean}`);
    assert.ok(s.localFinal && s.localFinal.n === 3, 'the models after local training are a second figure');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as SummaryJson;
    const m = summary.methods.find((x) => x.method === 'fedavg-u8')!;
    assert.equal(m.fedavgGlobalAccuracy!.mean, s.final.mean);
    assert.equal(m.bytesProtocol, s.bytesUp + s.bytesDown);
    assert.equal(summary.fedavgReference!.method, 'fedavg-u8');
    assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /^\| fedavg-u8 \| /m);
  });

  it('Ctrl-C stops every process, writes what was measured and exits 130', async () => {
    const tmp = mkdtempSync(join(base, 'sigint-'));
    const out = join(base, 'out-sigint');
    let sent = false;
    const run = await runHarness(
      [...QUICK, '--methods', 'mutual-sync', '--rounds', '50', '--out', out, '--no-progress'],
      tmp,
      (text, kill) => {
        // Once the coordinator is up and participants were started, interrupt.
        if (!sent && /coordinator at http/.test(text)) {
          sent = true;
          setTimeout(kill, 3000);
        }
      },
    );
    assert.ok(sent, run.stderr);
    assert.equal(run.code, 130, run.stderr);
    assert.match(run.stderr, /SIGINT: stopping every process/);
    assert.deepEqual(processesUnder(tmp), [], 'no coordinator or participant outlives the harness');
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationReport;
    assert.equal(report.info.interrupted, true);
    assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /Interrupted: partial results/);
  });
});
