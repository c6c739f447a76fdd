import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { globalRounds, perRound, summarize, timeline } from './aggregate.ts';
import { docsTable, docsTableOf } from './docs-table.ts';
import { parseOptions, type SimulateOptions } from './options.ts';
import { buildReport, writeOutputs } from './output.ts';
import { FEDAVG_TOLERANCE, summarizeVariant } from './summary.ts';
import { SUMMARY_FORMAT, summaryJson } from './summary-json.ts';
import { sweepTable } from './sweep-table.ts';
import type { GlobalRecord, MethodName, MethodResult, ParticipantRecord, TrafficSample } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'simulate-summary-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Two participants reporting `accs` per round (±1 point), one round a second, `bytes` per
 * round; FedAvg methods also score their global model at `accs` (so min = max).
 */
function fake(
  method: MethodName,
  accs: number[],
  bytes: number,
  extra: Partial<MethodResult> = {},
): MethodResult {
  const records: ParticipantRecord[] = [];
  const traffic: TrafficSample[] = [];
  const globals: GlobalRecord[] = [];
  accs.forEach((a, k) => {
    for (const p of [0, 1]) {
      // FedAvg's participants' own models after local training sit 20 points below its global one.
      const local = method.startsWith('fedavg') ? a - 0.2 : a;
      const rec = { p, step: k + 1, round: k + 1, testAccuracy: local + (p ? 0.01 : -0.01) };
      records.push({ ...rec, trainLoss: 1, bytesUp: 0, bytesDown: 0, staleness: 0, ms: (k + 1) * 1000 });
      globals.push({ p, globalRound: k + 1, testAccuracy: a, ms: (k + 1) * 1000 + 500 });
    }
    // FedAvg's round is over when its global model has been scored, half a second later.
    traffic.push({
      ms: (k + 1) * 1000 + (method.startsWith('fedavg') ? 500 : 0),
      bytesUp: (k + 1) * bytes * 0.5,
      bytesDown: (k + 1) * bytes * 0.5,
    });
  });
  const t = method === 'local-only' || method === 'centralised' ? [] : traffic;
  const summary = summarize({
    records,
    traffic: t,
    participants: 2,
    versions: accs.length,
    publicSetBytes: method.startsWith('mutual') ? 1e6 : 0,
  });
  const result: MethodResult = {
    method,
    seed: 1,
    encoding:
      { fedavg: 'float32', 'fedavg-f16': 'float16', 'fedavg-u8': 'uint8' }[method as string] ?? 'uint8',
    participants: [
      { index: 0, model: 'mlp', slowdown: 1 },
      { index: 1, model: 'mlp', slowdown: 1 },
    ],
    records,
    traffic: t,
    rounds: perRound(records, t),
    timeline: timeline(records, t, 2),
    summary,
    errors: [],
    notes: [],
    ...extra,
  };
  if (method.startsWith('fedavg')) {
    const rounds = globalRounds(globals, t);
    result.globalAccuracy = true;
    result.globals = globals;
    result.localRounds = result.rounds;
    result.rounds = rounds;
    result.timeline = rounds.map(({ round: _, ...p }) => p);
    summary.localFinal = summary.final;
    summary.final = { n: 2, mean: accs.at(-1)!, min: accs.at(-1)!, max: accs.at(-1)! };
  }
  return result;
}

describe('summary figures', () => {
  it('globalRounds: one point per aggregate, when the last participant had it, with the bytes then', () => {
    const g = (p: number, globalRound: number, testAccuracy: number, ms: number): GlobalRecord => ({
      p,
      globalRound,
      testAccuracy,
      ms,
    });
    const traffic = [
      { ms: 1000, bytesUp: 100, bytesDown: 100 },
      { ms: 3000, bytesUp: 300, bytesDown: 500 },
    ];
    const points = globalRounds(
      [g(0, 1, 0.7, 1000), g(1, 1, 0.7, 2000), g(1, 1, 0.9, 2500), g(0, 2, 0.8, 3000)],
      traffic,
    );
    assert.deepEqual(
      points.map((p) => [p.round, p.n, p.mean, p.ms, p.bytesUp + p.bytesDown]),
      [
        [1, 2, 0.7, 2000, 500],
        [2, 1, 0.8, 3000, 800],
      ],
      'a repeated scoring by the same participant counts once',
    );
  });

  it('pools seeds: the mean of the per-seed means, their range, every participant, and the per-seed figures', () => {
    const v = summarizeVariant([
      fake('mutual-sync', [0.6, 0.8], 2e4),
      fake('mutual-sync', [0.6, 0.9], 4e4, { seed: 2 }),
    ]);
    const m = v.methods[0]!;
    assert.deepEqual(m.seeds, [1, 2]);
    const f = m.finalAccuracy;
    assert.ok(Math.abs(f.mean - 0.85) < 1e-9, `${f.mean}`);
    assert.ok(Math.abs(f.seedMin - 0.8) < 1e-9 && Math.abs(f.seedMax - 0.9) < 1e-9);
    assert.ok(Math.abs(f.min - 0.79) < 1e-9 && Math.abs(f.max - 0.91) < 1e-9);
    assert.deepEqual(
      f.perSeed.map((s) => s.seed),
      [1, 2],
    );
    assert.equal(m.bytesProtocol, (4e4 + 8e4) / 2);
    assert.equal(m.bytesWithPublicSet, 6e4 + 1e6);
  });

  it('FedAvg reference: the cheapest encoding within the tolerance of the best, and says why', () => {
    const close = summarizeVariant([
      fake('fedavg', [0.8, 0.9], 4e6),
      fake('fedavg-f16', [0.8, 0.9 - FEDAVG_TOLERANCE / 2], 2e6),
      fake('fedavg-u8', [0.8, 0.9 - FEDAVG_TOLERANCE * 2], 1e6),
    ]);
    assert.equal(close.fedavgReference!.method, 'fedavg-f16', 'uint8 costs accuracy here');
    assert.match(
      close.fedavgReference!.reason,
      /cheapest FedAvg encoding within 0\.5 points of the best \(float32 90\.0%/,
    );
    const m = close.methods.find((x) => x.method === 'fedavg')!;
    assert.equal(m.fedavgGlobalAccuracy!.mean, 0.9);
    assert.ok(Math.abs(m.fedavgLocalAccuracy!.mean - 0.7) < 1e-9, 'after local training: the second figure');
    assert.equal(m.ratioVsFedavg.protocol, 0.5, 'float32 moved twice the reference bytes');
  });

  it('both byte columns, targets and ratios against the FedAvg reference', () => {
    const v = summarizeVariant([
      fake('local-only', [0.5, 0.6], 0),
      fake('fedavg-u8', [0.6, 0.9], 2e6),
      fake('mutual-sync', [0.6, 0.85], 2e4),
    ]);
    assert.equal(v.fedavgReference!.reason, 'the only FedAvg encoding run (uint8)');
    assert.equal(v.targetAccuracy, 0.85, 'the lower of FedAvg and the mutual methods');
    const mutual = v.methods.find((x) => x.method === 'mutual-sync')!;
    assert.equal(mutual.bytesToTarget!.protocol, 4e4);
    assert.equal(mutual.bytesToTarget!.withPublicSet, 4e4 + 1e6);
    assert.equal(mutual.bytesToTarget!.round, 2);
    assert.equal(mutual.ratioVsFedavg.protocol, 100);
    assert.equal(mutual.ratioVsFedavg.toTargetProtocol, 4e6 / 4e4);
    assert.equal(mutual.ratioVsFedavg.toTargetWithPublicSet, 4e6 / (4e4 + 1e6));
    assert.deepEqual(mutual.vsFedavg, {
      targetAccuracy: 0.85,
      bytesProtocol: 4e4,
      bytesWithPublicSet: 4e4 + 1e6,
      fedavgBytesProtocol: 4e6,
      ratioProtocol: 100,
      ratioWithPublicSet: 4e6 / (4e4 + 1e6),
    });
    const local = v.methods.find((x) => x.method === 'local-only')!;
    assert.equal(local.bytesToTarget!.reachedSeeds, 0);
    assert.equal(local.ratioVsFedavg.protocol, null);
  });

  it('a target reached in some seeds only says so', () => {
    const v = summarizeVariant(
      [fake('mutual-sync', [0.6, 0.8], 2e4), fake('mutual-sync', [0.6, 0.7], 2e4, { seed: 2 })],
      0.75,
    );
    assert.deepEqual([v.methods[0]!.bytesToTarget!.reachedSeeds, v.methods[0]!.bytesToTarget!.seeds], [1, 2]);
  });

  it('summary.json, the docs table made from it, and the sweep table', () => {
    const o = parseOptions([
      '--clients',
      '2',
      '--rounds',
      '2',
      '--seeds',
      '1,2',
      '--sweep',
      'lambda=0.5,2',
    ]) as SimulateOptions;
    const results = [0.5, 2].flatMap((lambda) =>
      [1, 2].flatMap((seed) => [
        fake('fedavg-u8', [0.6, 0.9], 2e6, { seed, variant: `lambda=${lambda}`, overrides: { lambda } }),
        fake('mutual-sync', [0.6, lambda === 2 ? 0.88 : 0.8], 2e4, {
          seed,
          variant: `lambda=${lambda}`,
          overrides: { lambda },
        }),
      ]),
    );
    const info = {
      command: 'npm run simulate -- ...',
      startedAt: '2026-01-01T00:00:00.000Z',
      wallMs: 1000,
      clientSizes: [100, 100],
      publicCount: 10,
      publicSetBytes: 7840,
      testCount: 20,
      machine: 'test',
      interrupted: false,
    };
    const report = buildReport(info, o, results);
    const json = summaryJson(report);
    assert.equal(json.format, SUMMARY_FORMAT);
    assert.deepEqual(json.seeds, [1, 2]);
    assert.equal(json.variants.length, 2);
    assert.equal(json.variants[1]!.variant, 'lambda=2');
    assert.equal(json.variant, 'lambda=0.5', 'the top level is the first sweep point');
    const m = json.methods.find((x) => x.method === 'mutual-sync')!;
    for (const key of [
      'method',
      'encoding',
      'finalAccuracy',
      'bytesProtocol',
      'bytesWithPublicSet',
    ] as const) {
      assert.ok(m[key] !== undefined, key);
    }
    assert.equal(json.targetAccuracy, 0.8);
    assert.equal(json.bytesToTarget['mutual-sync']!.protocol, 4e4);
    assert.equal(json.ratiosVsFedavg['mutual-sync']!.toTargetProtocol, 100);
    assert.equal(json.methods.find((x) => x.method === 'fedavg-u8')!.fedavgGlobalAccuracy!.mean, 0.9);

    const table = sweepTable(results, null).trim().split('\n');
    assert.equal(table.length, 2 + 4);
    assert.match(table[0]!, /^\| lambda \| method \| encoding \| final mean acc % \| range over seeds %/);
    assert.match(table[5]!, /^\| 2 \| mutual-sync \| uint8 \| 88\.0 \| 88\.0–88\.0 \|/);

    const out = join(dir, 'sweep');
    const files = writeOutputs(out, report);
    assert.ok(files.some((f) => f.endsWith('accuracy-vs-mb-sweep.svg')));
    const docs = docsTableOf([out]).trim().split('\n');
    assert.equal(docs.length, 2 + 4);
    assert.match(docs[0]!, /^\| setting \| method \| encoding \| final acc % \(range over seeds\) \|/);
    assert.match(docs[2]!, /^\| lambda=0\.5 \| fedavg-u8 \(reference\) \| uint8 \| 90\.0 \(90\.0–90\.0\) \|/);
    const two = docsTable([
      { name: 'a', summary: json },
      { name: 'b', summary: json },
    ]);
    assert.match(two, /^\| run \| setting \| method/);
    assert.throws(() => docsTableOf([join(dir, 'nothing')]), /summary\.json.*--render/s);
  });

  it('--attackers: honest accuracy in summary.json, the sweep table and the docs table', () => {
    const o = parseOptions(['--clients', '2', '--attackers', '1', '--attack', 'noise']) as SimulateOptions;
    // Participant 1 attacks: the honest figure is participant 0's (1 point below the mean).
    const attacked = (r: MethodResult): MethodResult => ({
      ...r,
      participants: [r.participants[0]!, { ...r.participants[1]!, attack: 'noise' }],
      summary: summarize({
        records: r.records,
        traffic: r.traffic,
        participants: 2,
        versions: 3,
        publicSetBytes: 0,
        attackers: [1],
      }),
    });
    const results = [fake('local-only', [0.5, 0.6], 0), fake('mutual-sync', [0.6, 0.8], 2e4)].map(attacked);
    const report = buildReport(
      {
        command: 'x',
        startedAt: 't',
        wallMs: 1,
        clientSizes: [1, 1],
        publicCount: 1,
        publicSetBytes: 1,
        testCount: 1,
        machine: 'm',
        interrupted: false,
      },
      o,
      results,
    );
    const json = summaryJson(report);
    assert.equal(json.attackers, 1);
    assert.equal(json.attack, 'noise');
    assert.equal(json.methods.find((m) => m.method === 'mutual-sync')!.honestAccuracy!.mean, 0.79);
    const sweep = sweepTable(results, null).trim().split('\n');
    assert.match(sweep[0]!, /\| final mean acc % \| honest mean acc % \|/);
    assert.match(sweep.find((l) => l.includes('mutual-sync'))!, /\| 80\.0 \| 79\.0 \|/);
    const docs = docsTable([{ name: 'a', summary: json }])
      .trim()
      .split('\n');
    assert.match(docs[0]!, /\| final acc % \| attackers \| honest acc % \|/);
    assert.match(docs.find((l) => l.includes('mutual-sync'))!, /\| 80\.0 \| 1 noise \| 79\.0 \|/);
  });
});
