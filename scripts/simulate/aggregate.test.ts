import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  perRound,
  reach,
  roundsToReach,
  stats,
  summarize,
  timeline,
  toParticipantRecords,
  trafficAt,
} from './aggregate.ts';
import type { ParticipantRecord, RoundRecord, TrafficSample } from './types.ts';

const line = (round: number, testAccuracy: number, t: number): RoundRecord => ({
  round,
  participant: 'x',
  trainLoss: 1,
  trainAccuracy: 0.5,
  valAccuracy: 0.5,
  testAccuracy,
  bytesUp: 0,
  bytesDown: 0,
  staleness: 0,
  weight: 1,
  trainMs: 10,
  t,
});

const rec = (p: number, step: number, testAccuracy: number, ms: number): ParticipantRecord => ({
  p,
  step,
  round: step,
  testAccuracy,
  trainLoss: 1,
  bytesUp: 0,
  bytesDown: 0,
  staleness: 0,
  ms,
});

const traffic: TrafficSample[] = [
  { ms: 1000, bytesUp: 100, bytesDown: 1000 },
  { ms: 2000, bytesUp: 300, bytesDown: 3000 },
];

describe('aggregate', () => {
  it('numbers a participant’s reports in file order and times them from the start', () => {
    const r = toParticipantRecords(2, [line(5, 0.5, 10_500), line(7, 0.6, 11_000)], 10_000);
    assert.deepEqual(
      r.map((x) => [x.p, x.step, x.round, x.ms]),
      [
        [2, 1, 5, 500],
        [2, 2, 7, 1000],
      ],
    );
  });

  it('stats: mean, min, max; NaN for nothing', () => {
    assert.deepEqual(stats([0.5, 0.7, 0.9]), { n: 3, mean: (0.5 + 0.7 + 0.9) / 3, min: 0.5, max: 0.9 });
    assert.ok(Number.isNaN(stats([]).mean));
  });

  it('trafficAt interpolates from 0 at the start and holds the last sample', () => {
    assert.deepEqual(trafficAt(traffic, 0), { bytesUp: 0, bytesDown: 0 });
    assert.deepEqual(trafficAt(traffic, 500), { bytesUp: 50, bytesDown: 500 });
    assert.deepEqual(trafficAt(traffic, 1500), { bytesUp: 200, bytesDown: 2000 });
    assert.deepEqual(trafficAt(traffic, 2000), { bytesUp: 300, bytesDown: 3000 });
    assert.deepEqual(trafficAt(traffic, 9000), { bytesUp: 300, bytesDown: 3000 });
    assert.deepEqual(trafficAt([], 9000), { bytesUp: 0, bytesDown: 0 });
  });

  it('perRound groups the k-th reports; its time is the last of them', () => {
    const rounds = perRound(
      [rec(0, 1, 0.5, 500), rec(1, 1, 0.7, 1000), rec(0, 2, 0.8, 1500), rec(1, 2, 0.6, 2000)],
      traffic,
    );
    assert.equal(rounds.length, 2);
    assert.deepEqual(
      { ...rounds[0]!, mean: Number(rounds[0]!.mean.toFixed(6)) },
      { round: 1, n: 2, mean: 0.6, min: 0.5, max: 0.7, ms: 1000, bytesUp: 100, bytesDown: 1000 },
    );
    assert.equal(rounds[1]!.ms, 2000);
    assert.equal(rounds[1]!.bytesUp, 300);
  });

  it('timeline starts once every participant reported, then follows the latest reports', () => {
    const points = timeline(
      [rec(0, 1, 0.2, 100), rec(0, 2, 0.4, 200), rec(1, 1, 0.6, 300), rec(0, 3, 0.8, 400)],
      [],
      2,
    );
    assert.deepEqual(
      points.map((p) => [p.ms, Number(p.mean.toFixed(6)), p.min, p.max]),
      [
        [300, 0.5, 0.4, 0.6],
        [400, 0.7, 0.6, 0.8],
      ],
    );
  });

  it('timeline merges reports at the same ms into one point', () => {
    const points = timeline([rec(0, 1, 0.2, 100), rec(1, 1, 0.4, 100)], [], 2);
    assert.equal(points.length, 1);
  });

  it('reach and roundsToReach find the first point at or above the target', () => {
    const points = timeline([rec(0, 1, 0.5, 1000), rec(0, 2, 0.9, 2000)], traffic, 1);
    assert.deepEqual(reach(points, 0.8), { ms: 2000, bytes: 3300 });
    assert.equal(reach(points, 0.95), null);
    const rounds = perRound([rec(0, 1, 0.5, 1000), rec(0, 2, 0.9, 2000)], traffic);
    assert.equal(roundsToReach(rounds, 0.8), 2);
    assert.equal(roundsToReach(rounds, 0.95), null);
  });

  it('a target equal to the final mean, summed in another order, is reached', () => {
    // 0.9268 as the run's final mean and as the timeline's last mean differ in the last bit.
    const accs = [0.9205, 0.9345, 0.926, 0.925, 0.9275, 0.93, 0.922, 0.9285, 0.9265, 0.9275];
    const recs = accs.map((a, p) => rec(p, 1, a, 1000));
    const points = timeline(recs, traffic, accs.length);
    const last = points.at(-1)!.mean;
    assert.ok(reach(points, last * (1 + 1e-15)) !== null, 'one bit above the last mean');
    assert.equal(reach(points, last + 1e-6), null, 'a real shortfall is still a miss');
  });

  it('summarize: final statistics over each participant’s last report, bytes from the last sample', () => {
    const s = summarize({
      records: [rec(0, 1, 0.5, 100), rec(0, 2, 0.9, 900), rec(1, 1, 0.7, 1200)],
      traffic,
      participants: 2,
      versions: 4,
      publicSetBytes: 42,
    });
    assert.deepEqual(s.final, { n: 2, mean: 0.8, min: 0.7, max: 0.9 });
    assert.equal(s.rounds, 2);
    assert.equal(s.wallMs, 1200);
    assert.equal(s.bytesUp, 300);
    assert.equal(s.bytesDown, 3000);
    assert.equal(s.versions, 4);
    assert.equal(s.publicSetBytes, 42);
    assert.equal(s.honestFinal, undefined, 'nobody attacks: no honest figure');
  });

  it('summarize: with attackers, honestFinal leaves them out', () => {
    const s = summarize({
      records: [rec(0, 1, 0.9, 100), rec(1, 1, 0.7, 200), rec(2, 1, 0.1, 300)],
      traffic,
      participants: 3,
      versions: 1,
      publicSetBytes: 0,
      attackers: [2],
    });
    assert.equal(s.final.n, 3);
    assert.deepEqual(s.honestFinal, { n: 2, mean: 0.8, min: 0.7, max: 0.9 });
  });
});
