import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RunFile, readRunFiles, sizeAccuracyChart, sizePoints, sizeSeries } from './size-plot.ts';

type Result = RunFile['results'][number];

function result(
  setting: string,
  member: number,
  seed: number,
  sparsity: number,
  acc: number,
  gz: number,
): Result {
  return {
    setting,
    member,
    seed,
    sparsity,
    exports: [
      { encoding: 'float32', weightBytes: 4000, gzipBytes: gz * 4, accuracy: acc },
      { encoding: 'float16', weightBytes: 2000, gzipBytes: gz * 2, accuracy: acc },
      { encoding: 'uint8', weightBytes: 1000, gzipBytes: gz, accuracy: acc - 0.001 },
    ],
  };
}

const file = (results: Result[]): RunFile => ({
  command: 'mutua-client --local-mutual',
  options: { dataset: 'mnist', cohort: ['mlp', 'mlp'] },
  results,
});

describe('size-accuracy plot', () => {
  const dense = file([
    result('alone', 0, 1, 0, 0.9, 900),
    result('alone', 0, 2, 0, 0.8, 1100),
    result('mutual', 0, 1, 0, 0.91, 950),
    result('mutual', 1, 1, 0, 0.5, 1),
    result('mutual', 0, 2, 0, 0.85, 1050),
    result('mutual', 1, 2, 0, 0.5, 1),
    { ...result('one-way', 0, 1, 0, 0.1, 1) },
  ]);
  const sparse = file([
    result('alone', 0, 1, 0.8, 0.7, 300),
    result('alone', 0, 2, 0.8, 0.6, 500),
    result('mutual', 0, 2, 0.8, 0.75, 420),
    result('mutual', 0, 1, 0.8, 0.73, 380),
  ]);

  it('averages member 0 of alone and mutual over seeds, per sparsity and encoding', () => {
    const points = sizePoints([dense, sparse]);
    assert.equal(points.length, 2 * 2 * 3);
    const p = points.find((x) => x.setting === 'alone' && x.sparsity === 0 && x.encoding === 'uint8')!;
    assert.deepEqual(p.seeds, [1, 2]);
    assert.ok(Math.abs(p.meanAccuracy - 0.849) < 1e-12);
    assert.ok(Math.abs(p.minAccuracy - 0.799) < 1e-12);
    assert.ok(Math.abs(p.maxAccuracy - 0.899) < 1e-12);
    assert.equal(p.meanGzipBytes, 1000);
    assert.equal(p.weightBytes, 1000);
    const m = points.find((x) => x.setting === 'mutual' && x.sparsity === 0.8 && x.encoding === 'float32')!;
    assert.ok(Math.abs(m.meanAccuracy - 0.74) < 1e-12, 'member 1 and one-way are not averaged in');
    assert.equal(m.meanGzipBytes, 1600);
  });

  it('refuses a seed counted twice, a partial run and an unknown encoding', () => {
    assert.throws(() => sizePoints([sparse, sparse]), /seed \d twice/);
    const partial = file([result('alone', 0, 1, 0.5, 0.7, 300)]);
    assert.throws(() => sizePoints([dense, partial]), /different seeds/);
    const odd = file([
      {
        ...result('alone', 0, 1, 0, 0.9, 1),
        exports: [{ encoding: 'int4', weightBytes: 1, gzipBytes: 1, accuracy: 1 }],
      },
    ]);
    assert.throws(() => sizePoints([odd]), /unknown encoding int4/);
    const none = file([{ setting: 'alone', member: 0, seed: 1, sparsity: 0 }]);
    assert.throws(() => sizePoints([none]), /no exports/);
  });

  it('draws one line per recovery setting and encoding, ordered by size, in percent', () => {
    const series = sizeSeries(sizePoints([dense, sparse]));
    assert.deepEqual(
      series.map((s) => s.name),
      [
        'f32, with recovery',
        'f16, with recovery',
        'u8, with recovery',
        'f32, without recovery',
        'f16, without recovery',
        'u8, without recovery',
      ],
    );
    const u8 = series.find((s) => s.name === 'u8, without recovery')!;
    assert.equal(u8.dashed, true);
    assert.deepEqual(u8.points, [
      [400, 64.9],
      [1000, 84.9],
    ]);
    assert.deepEqual(u8.band, [
      [400, 59.9, 69.9],
      [1000, 79.9, 89.9],
    ]);
    assert.deepEqual(
      series.find((s) => s.name === 'u8, with recovery')!.labels?.map((l) => l[2]),
      ['80%', 'dense'],
    );
    const svg = sizeAccuracyChart(sizePoints([dense, sparse]), 'test');
    assert.equal(svg.match(/<polyline /g)?.length, 6);
    assert.match(svg, /dense f32 alone \(85\)/);
    assert.doesNotMatch(svg, /NaN|Infinity/);
  });

  it('reproduces the committed table from docs/results/compression-size', () => {
    const points = sizePoints(
      readRunFiles(new URL('../../docs/results/compression-size', import.meta.url).pathname),
    );
    const get = (setting: string, sparsity: number, encoding: string) =>
      points.find((p) => p.setting === setting && p.sparsity === sparsity && p.encoding === encoding)!;
    // docs/compression.md: 80% with recovery, uint8: 89.10, 63,304 B gzipped; dense alone f32 90.62.
    assert.equal((get('mutual', 0.8, 'uint8').meanAccuracy * 100).toFixed(2), '89.10');
    assert.equal(Math.round(get('mutual', 0.8, 'uint8').meanGzipBytes), 63304);
    assert.equal((get('alone', 0, 'float32').meanAccuracy * 100).toFixed(2), '90.62');
    assert.equal(points.length, 2 * 4 * 3);
  });
});
