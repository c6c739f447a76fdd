import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { perRound, summarize, timeline } from './aggregate.ts';
import {
  claimChecks,
  csv,
  defaultTarget,
  markdownTable,
  recordsCsv,
  roundsCsv,
  timelineCsv,
} from './report.ts';
import type { MethodName, MethodResult, ParticipantRecord, TrafficSample } from './types.ts';

/** A method whose two participants report `accs` (per round) at 1 s intervals with `bytesPerRound` traffic. */
function fake(method: MethodName, accs: number[], bytesPerRound: number, msPerRound = 1000): MethodResult {
  const records: ParticipantRecord[] = [];
  const traffic: TrafficSample[] = [];
  accs.forEach((a, k) => {
    for (const p of [0, 1]) {
      records.push({
        p,
        step: k + 1,
        round: k + 1,
        testAccuracy: a + (p === 0 ? -0.01 : 0.01),
        trainLoss: 1,
        bytesUp: 0,
        bytesDown: 0,
        staleness: 0,
        ms: (k + 1) * msPerRound,
      });
    }
    traffic.push({
      ms: (k + 1) * msPerRound,
      bytesUp: (k + 1) * bytesPerRound * 0.5,
      bytesDown: (k + 1) * bytesPerRound * 0.5,
    });
  });
  const t = method === 'local-only' ? [] : traffic;
  return {
    method,
    participants: [
      { index: 0, model: 'mlp', slowdown: 1 },
      { index: 1, model: 'mlp', slowdown: 1 },
    ],
    records,
    traffic: t,
    rounds: perRound(records, t),
    timeline: timeline(records, t, 2),
    summary: summarize({
      records,
      traffic: t,
      participants: 2,
      versions: accs.length,
      publicSetBytes: method.startsWith('mutual') ? 1e6 : 0,
    }),
    errors: [],
    notes: [],
  };
}

const results = [
  fake('local-only', [0.5, 0.6, 0.65], 0),
  fake('fedavg', [0.6, 0.8, 0.9], 2e6),
  fake('mutual-sync', [0.6, 0.78, 0.89], 2e4),
  fake('mutual-async', [0.62, 0.8, 0.88], 2e4, 400),
];

describe('report', () => {
  it('defaultTarget: the lowest final mean among federated methods, rounded down to half a point', () => {
    assert.equal(defaultTarget(results), 0.88);
    assert.equal(defaultTarget([results[0]!]), null);
  });

  it('markdownTable: a row per method with accuracy, MB, MB to X, and the FedAvg byte ratio', () => {
    const md = markdownTable(results, { target: 0.85 });
    const rows = md.trim().split('\n');
    assert.equal(rows.length, 2 + 4);
    const header = rows[0]!.split('|').map((c) => c.trim());
    assert.ok(header.includes('MB to 85.0%'), rows[0]);
    const cells = (m: string) =>
      rows
        .find((r) => r.startsWith(`| ${m} `))!
        .split('|')
        .map((c) => c.trim());
    const col = (name: string) => header.indexOf(name);
    assert.equal(cells('fedavg')[col('final mean acc %')], '90.0');
    assert.equal(cells('fedavg')[col('MB up+down')], '6.00');
    assert.equal(cells('mutual-sync')[col('MB up+down')], '0.060');
    assert.equal(cells('mutual-sync')[col('FedAvg bytes ÷ these (total)')], '100x');
    assert.equal(cells('mutual-sync')[col('round to 85.0%')], '3');
    assert.equal(cells('local-only')[col('MB to 85.0%')], 'not reached');
    assert.equal(cells('local-only')[col('FedAvg bytes ÷ these (total)')], '—');
    assert.equal(cells('mutual-async')[col('rounds')], '3 (3 versions)');
    assert.equal(cells('mutual-sync')[col('public set MB (HTTP, once)')], '1.00');
  });

  it('markdownTable: an honest mean column when participants attack, and only then', () => {
    assert.ok(!markdownTable(results, { target: null }).includes('honest'));
    const attacked = results.map((r) => ({
      ...r,
      participants: [r.participants[0]!, { ...r.participants[1]!, attack: 'wrong' as const }],
      summary: summarize({
        records: r.records,
        traffic: r.traffic,
        participants: 2,
        versions: 3,
        publicSetBytes: 0,
        attackers: [1],
      }),
    }));
    const rows = markdownTable(attacked, { target: null }).trim().split('\n');
    const header = rows[0]!.split('|').map((c) => c.trim());
    const sync = rows
      .find((r) => r.startsWith('| mutual-sync '))!
      .split('|')
      .map((c) => c.trim());
    // Participant 0 (honest) reports 0.89 - 0.01; participant 1 (attacker) 0.89 + 0.01.
    assert.equal(sync[header.indexOf('final mean acc %')], '89.0');
    assert.equal(sync[header.indexOf('honest mean acc %')], '88.0');
  });

  it('markdownTable lists a skipped method with its reason', () => {
    const md = markdownTable([{ ...results[1]!, skipped: 'mixed architectures', summary: undefined }], {
      target: null,
    });
    assert.match(md, /fedavg: not run — mixed architectures/);
  });

  it('csv quotes fields with commas, quotes and newlines; leaves NaN empty', () => {
    assert.equal(
      csv(
        ['a', 'b'],
        [
          ['x,y', 'say "hi"'],
          [1, Number.NaN],
        ],
      ),
      'a,b\n"x,y","say ""hi"""\n1,\n',
    );
  });

  it('rounds, timeline and records CSV have a header and one row per point', () => {
    const r = roundsCsv(results).trim().split('\n');
    assert.equal(
      r[0],
      'method,round,participants,mean_acc,min_acc,max_acc,bytes_up,bytes_down,mb_total,wall_s',
    );
    assert.equal(r.length, 1 + 4 * 3);
    assert.equal(r[4], 'fedavg,1,2,0.6,0.59,0.61,1000000,1000000,2,1');
    assert.equal(timelineCsv(results).trim().split('\n').length, 1 + 4 * 3);
    assert.equal(recordsCsv(results).trim().split('\n').length, 1 + 4 * 6);
  });

  it('claimChecks states each target as met or missed with the numbers', () => {
    const lines = claimChecks(results, { stragglers: 2 }).join('\n');
    assert.match(lines, /mutual-sync vs local-only: \+24\.0 points .*\*\*met\*\*/);
    assert.match(
      lines,
      /mutual-sync vs FedAvg final accuracy: 89\.0% vs 90\.0%, 1\.0 points below .*\*\*met\*\*/,
    );
    assert.match(
      lines,
      /bytes to reach 89\.0% \(the lower of mutual-sync's and FedAvg's final means\): mutual-sync 0\.060 MB, FedAvg 6\.00 MB: 100\.0x fewer \(target ≥ 50x\): \*\*met\*\*/,
    );
    assert.match(lines, /counting the one-off public-set download too/);
    assert.match(lines, /mutual-async never reaches mutual-sync's final 89\.0%.*\*\*missed\*\*/);
    const noStragglers = claimChecks(results, { stragglers: 0 }).join('\n');
    assert.doesNotMatch(noStragglers, /mutual-sync's final/, 'the async time target is about stragglers');
    assert.match(noStragglers, /mutual-sync vs local-only/);
  });
});
