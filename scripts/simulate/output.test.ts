import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { perRound, summarize, timeline } from './aggregate.ts';
import { parseOptions, type SimulateOptions } from './options.ts';
import { buildReport, renderAgain, summaryMarkdown, writeOutputs } from './output.ts';
import type { MethodName, MethodResult, ParticipantRecord, TrafficSample } from './types.ts';

const dir = mkdtempSync(join(tmpdir(), 'simulate-output-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fake(method: MethodName, accs: number[], bytesPerRound: number): MethodResult {
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
    bytesUp: (k + 1) * bytesPerRound,
    bytesDown: (k + 1) * bytesPerRound,
  }));
  return {
    method,
    participants: [{ index: 0, model: 'mlp', slowdown: 1 }],
    records,
    traffic,
    rounds: perRound(records, traffic),
    timeline: timeline(records, traffic, 1),
    summary: summarize({ records, traffic, participants: 1, versions: accs.length, publicSetBytes: 0 }),
    errors: [],
    notes: [],
  };
}

const options = parseOptions(['--clients', '1', '--rounds', '2']) as SimulateOptions;
const info = {
  command: 'npm run simulate -- --clients 1 --rounds 2',
  startedAt: '2026-01-01T00:00:00.000Z',
  wallMs: 60_000,
  clientSizes: [100],
  publicCount: 10,
  publicSetBytes: 7840,
  testCount: 20,
  machine: 'test',
  interrupted: false,
};

describe('simulation output', () => {
  it('summary.md has the command, settings, table, claims, plots, notes and errors', () => {
    const fedavg = fake('fedavg', [0.5, 0.8], 1e6);
    const mutual = { ...fake('mutual-sync', [0.6, 0.79], 1e4), notes: ['a note'], errors: ['an error'] };
    const md = summaryMarkdown(buildReport(info, options, [fedavg, mutual]));
    assert.match(md, /^# Simulation: mnist, 1 participants, alpha 0.5$/m);
    assert.match(md, /npm run simulate -- --clients 1 --rounds 2/);
    assert.match(md, /\| private samples per participant \| 100–100 \(total 100\) \|/);
    assert.match(md, /^\| mutual-sync \| 79\.0 \|/m);
    assert.match(md, /## Claims checked/);
    assert.match(md, /!\[accuracy vs MB\]\(accuracy-vs-mb\.svg\)/);
    assert.match(md, /## Notes\n\n- a note/);
    assert.match(md, /## Errors\n\n- an error/);
  });

  it('writes every file, and --render rewrites them identically from results.json', () => {
    const out = join(dir, 'run');
    const files = writeOutputs(out, buildReport(info, options, [fake('fedavg', [0.5, 0.8], 1e6)]));
    assert.deepEqual(files.map((f) => f.slice(out.length + 1)).sort(), [
      'accuracy-vs-mb.svg',
      'accuracy-vs-round.svg',
      'accuracy-vs-time.svg',
      'records.csv',
      'results.json',
      'rounds.csv',
      'summary.json',
      'summary.md',
      'timeline.csv',
    ]);
    const before = files.map((f) => readFileSync(f, 'utf8'));
    for (const f of files) if (!f.endsWith('results.json')) writeFileSync(f, '');
    renderAgain(out);
    assert.deepEqual(
      files.map((f) => readFileSync(f, 'utf8')),
      before,
    );
  });
});
