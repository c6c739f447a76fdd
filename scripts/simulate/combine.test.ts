import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarize, timeline } from './aggregate.ts';
import { combineReports, encodingLabel, encodingsPlot, encodingsTable, settingsMismatch } from './combine.ts';
import { parseOptions, type SimulateOptions } from './options.ts';
import type { SimulationReport } from './output.ts';
import { summaryJson } from './summary-json.ts';
import type { MethodName, MethodResult, ParticipantRecord, TrafficSample } from './types.ts';

/** One participant reporting `accs`, one round a second, `bytes` more each round; `publicSet` bytes downloaded once. */
function fake(
  method: MethodName,
  accs: number[],
  bytes: number,
  extra: Partial<MethodResult> = {},
): MethodResult {
  const records: ParticipantRecord[] = accs.map((a, k) => ({
    p: 0,
    step: k + 1,
    round: k + 1,
    testAccuracy: a,
    trainLoss: 1,
    bytesUp: 0,
    bytesDown: 0,
    staleness: 0,
    ms: (k + 1) * 1000,
  }));
  const traffic: TrafficSample[] = accs.map((_, k) => ({
    ms: (k + 1) * 1000,
    bytesUp: (k + 1) * bytes,
    bytesDown: 0,
  }));
  const publicSetBytes = method.startsWith('mutual') ? 1000 : 0;
  return {
    method,
    seed: 1,
    encoding: method === 'fedavg-u8' ? 'uint8' : method === 'fedavg' ? 'float32' : 'uint8',
    participants: [{ index: 0, model: 'mlp', slowdown: 1 }],
    records,
    traffic,
    rounds: [],
    timeline: timeline(records, traffic, 1),
    summary: summarize({ records, traffic, participants: 1, versions: accs.length, publicSetBytes }),
    errors: [],
    notes: [],
    ...extra,
  };
}

function report(results: MethodResult[], args: string[] = [], clientSizes = [100]): SimulationReport {
  const options = parseOptions([
    '--clients',
    '1',
    '--rounds',
    '3',
    '--limit',
    '100',
    ...args,
  ]) as SimulateOptions;
  return {
    info: {
      command: 'npm run simulate -- ...',
      startedAt: '2026-01-01T00:00:00.000Z',
      wallMs: 1000,
      clientSizes,
      publicCount: 10,
      publicSetBytes: 7840,
      testCount: 20,
      machine: 'test',
      interrupted: false,
    },
    options,
    target: null,
    results,
  };
}

const baseline = () =>
  report([
    fake('local-only', [0.5, 0.6, 0.7], 0),
    fake('fedavg', [0.8, 0.9, 0.95], 4000),
    fake('fedavg-u8', [0.8, 0.9, 0.95], 1000),
  ]);
const soft1 = { encodings: 'soft1', compressions: 'deflate-raw', delta: 'true' };
const encodingsRun = () =>
  report([
    fake('mutual-sync', [0.7, 0.85, 0.9], 100, {
      variant: 'encodings=uint8',
      overrides: { encodings: 'uint8' },
    }),
    fake('mutual-sync', [0.6, 0.8, 0.92], 10, { variant: 'x', overrides: soft1 }),
  ]);

describe('combining runs on one split', () => {
  it('labels a run by its payload settings', () => {
    assert.equal(encodingLabel(fake('mutual-sync', [0.5], 1, { overrides: soft1 })), 'soft1+deflate+delta');
    assert.equal(
      encodingLabel(
        fake('mutual-sync', [0.5], 1, {
          overrides: { encodings: 'hard', targetEncodings: 'soft2', lambda: 2 },
        }),
      ),
      'hard, targets soft2 lambda=2',
    );
    assert.equal(encodingLabel(fake('fedavg-u8', [0.5], 1)), 'fedavg-u8 (uint8)');
  });

  it('makes one sweep point per run, each with the baseline FedAvg runs, and compares it at the lower final accuracy', () => {
    const combined = combineReports(baseline(), ['fedavg', 'fedavg-u8'], [encodingsRun()], 'combine');
    assert.deepEqual(
      combined.results.map((r) => `${r.variant}: ${r.method}`),
      [
        'uint8: fedavg',
        'uint8: fedavg-u8',
        'uint8: mutual-sync',
        'soft1+deflate+delta: fedavg',
        'soft1+deflate+delta: fedavg-u8',
        'soft1+deflate+delta: mutual-sync',
      ],
    );
    const json = summaryJson(combined);
    assert.equal(json.variants.length, 2);
    const [plain, low] = json.variants;
    assert.equal(plain!.fedavgReference?.method, 'fedavg-u8', 'same accuracy, fewer bytes');
    const m = plain!.methods.find((x) => x.method === 'mutual-sync')!;
    // Lower final accuracy 0.9: mutual-sync reaches it after 3 rounds (300 B), FedAvg-u8 after 2 (2000 B).
    assert.equal(m.vsFedavg?.targetAccuracy, 0.9);
    assert.equal(m.vsFedavg?.bytesProtocol, 300);
    assert.equal(m.vsFedavg?.ratioProtocol, 2000 / 300);
    assert.equal(m.vsFedavg?.ratioWithPublicSet, 2000 / 1300);
    const l = low!.methods.find((x) => x.method === 'mutual-sync')!;
    // 0.92 against 0.95: FedAvg-u8 reaches 0.92 after 3000 B, soft1 after 30 B.
    assert.equal(l.vsFedavg?.targetAccuracy, 0.92);
    assert.equal(l.vsFedavg?.ratioProtocol, 100);
    assert.equal(combined.options.sweep[0]?.values.length, 2);

    const table = encodingsTable(combined);
    const rows = table.trim().split('\n');
    assert.equal(rows.length, 2 + 4, 'header, rule, two FedAvg rows once each, two encodings');
    assert.match(table, /\| fedavg-u8 \(uint8\), reference \| 95\.0 \|/);
    assert.match(
      table,
      /\| mutual-sync soft1\+deflate\+delta \| 92\.0 \| .* \| 92\.0 \| .* \| 100x \| 2\.9x \|/,
    );
  });

  it('draws every FedAvg run once and one curve per encoding, with the public set when asked', () => {
    const combined = combineReports(baseline(), ['fedavg', 'fedavg-u8'], [encodingsRun()], 'combine');
    const svg = encodingsPlot(combined, false);
    assert.equal(svg.match(/<polyline/g)?.length, 4);
    assert.equal(svg.match(/stroke-dasharray/g)?.length ?? 0, 2 * 2, 'FedAvg dashed (line and legend)');
    assert.match(svg, />soft1\+deflate\+delta<\/text>/, 'mutual-sync named by its encoding');
    assert.match(encodingsPlot(combined, true), /public-set download/);
  });

  it('leaves out a run that stopped before its last round, and says so', () => {
    const run = encodingsRun();
    run.results.push(fake('mutual-sync', [0.5], 10, { overrides: { encodings: 'hard' } }));
    run.info.interrupted = true;
    const combined = combineReports(baseline(), ['fedavg-u8'], [run], 'combine');
    assert.deepEqual(combined.options.sweep[0]?.values, ['uint8', 'soft1+deflate+delta']);
    assert.equal(combined.info.interrupted, false);
    assert.ok(combined.results[1]!.notes.includes('mutual-sync hard: left out, 1 of 3 rounds'));
  });

  it('refuses runs on another split or another FedAvg setting, and a baseline without the method', () => {
    assert.deepEqual(settingsMismatch(baseline(), encodingsRun()), []);
    const other = report(encodingsRun().results, ['--rounds', '4'], [99]);
    assert.deepEqual(
      settingsMismatch(baseline(), other).map((d) => d.split(':')[0]),
      ['rounds', 'clientSizes'],
    );
    assert.throws(() => combineReports(baseline(), ['fedavg-u8'], [other], 'c'), /rounds: 3 ≠ 4/);
    assert.throws(() => combineReports(baseline(), ['fedavg-f16'], [encodingsRun()], 'c'), /no fedavg-f16/);
  });
});
