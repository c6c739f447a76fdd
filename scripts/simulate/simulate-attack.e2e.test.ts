// --attackers end to end: the last participant of three uploads confident wrong labels
// (mutua-client --attack wrong) in a real federation; the harness reports the honest
// participants' mean beside everyone's, in results.json, summary.json and summary.md.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { base, processesUnder, QUICK, runHarness } from './e2e-harness.ts';
import type { SimulationReport } from './output.ts';
import type { SummaryJson } from './summary-json.ts';

describe('npm run simulate --attackers, end to end', { timeout: 8 * 60_000 }, () => {
  it('one attacker of three: the honest mean covers the other two, in every output', async () => {
    const tmp = mkdtempSync(join(base, 'attack-'));
    const out = join(base, 'out-attack');
    const run = await runHarness(
      [
        ...QUICK,
        '--rounds',
        '2',
        '--methods',
        'local-only,mutual-sync',
        '--attackers',
        '1',
        '--attack',
        'wrong',
        '--out',
        out,
        '--no-progress',
      ],
      tmp,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(processesUnder(tmp), [], 'no coordinator or participant outlives the harness');

    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationReport;
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as SummaryJson;
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    const header = md
      .split('\n')
      .find((l) => l.startsWith('| method |'))!
      .split('|')
      .map((c) => c.trim());
    const honestCol = header.indexOf('honest mean acc %');
    assert.ok(honestCol > 0, `summary.md has an honest mean column: ${header.join(' | ')}`);
    for (const method of ['local-only', 'mutual-sync'] as const) {
      const r = report.results.find((x) => x.method === method)!;
      assert.deepEqual(r.errors, [], `${method} ran without errors`);
      assert.deepEqual(
        r.participants.map((p) => p.attack),
        [undefined, undefined, 'wrong'],
        `${method}: the last participant is the attacker`,
      );
      // The honest mean is computed from the honest participants' own last reports.
      const last = (p: number) =>
        r.records.filter((x) => x.p === p).reduce((a, b) => (b.step > a.step ? b : a)).testAccuracy;
      const expected = (last(0) + last(1)) / 2;
      const honest = r.summary!.honestFinal!;
      assert.equal(honest.n, 2);
      assert.ok(Math.abs(honest.mean - expected) < 1e-12, `${method}: ${honest.mean} vs ${expected}`);
      const json = summary.methods.find((m) => m.method === method)!;
      assert.ok(Math.abs(json.honestAccuracy!.mean - expected) < 1e-12);
      const row = md
        .split('\n')
        .find((l) => l.startsWith(`| ${method} |`))!
        .split('|')
        .map((c) => c.trim());
      assert.equal(row[honestCol], (expected * 100).toFixed(1), `${method} row of summary.md`);
    }
    assert.match(md, /^\| attackers \| 1 of 3 \(the last\), uploading `wrong`/m);
  });

  it("one copier of three: the coordinator's admin API flags it, and the run reports it", async () => {
    const tmp = mkdtempSync(join(base, 'copy-'));
    const out = join(base, 'out-copy');
    // QUICK's public set (500) fits one batch (512): every version's batch holds every
    // sample of the targets sent with it, so the copier can be compared from version 2 on.
    const run = await runHarness(
      [
        ...QUICK,
        '--rounds',
        '3',
        '--methods',
        'mutual-sync',
        '--attackers',
        '1',
        '--attack',
        'copy',
        '--sweep',
        'aggregation=agreement',
        '--out',
        out,
        '--no-progress',
      ],
      tmp,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(processesUnder(tmp), [], 'no coordinator or participant outlives the harness');
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SimulationReport;
    const r = report.results.find((x) => x.method === 'mutual-sync')!;
    assert.deepEqual(r.errors, []);
    assert.equal(r.settings?.aggregation, 'agreement');
    assert.deepEqual(
      r.flagged?.map((f) => [f.participant, f.reason]),
      [[2, 'copies its targets']],
      'only the copier is flagged, for copying',
    );
    assert.ok(r.flagged![0]!.trust < 0.5);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    assert.match(
      md,
      /flagged by the coordinator at the end: p2 \(copies its targets, trust 0\.\d\d\) \(of 3 scored\)/,
    );
  });
});
