#!/usr/bin/env node
/**
 * The size–accuracy plot of docs/compression.md, drawn from the committed JSON of
 * `mutua-client --local-mutual ... --export-dir` runs (docs/results/compression-size/):
 * accuracy of the exported-and-reloaded model against the bytes of its `weights.bin.gz`
 * (log x), one line per family (with / without mutual recovery × float32 / float16 / uint8)
 * through the sparsities that were run, band = min..max over seeds.
 *
 *   node --import tsx scripts/compression/size-plot.ts [DIR]    # default docs/results/compression-size
 *   (docs/results/compression-size-long: the 10-epoch runs of run-longer.sh)
 *
 * Writes DIR/size-accuracy.svg and prints the points it drew.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type ReferenceLine, type Series } from '../simulate/svg-chart.ts';

export type Encoding = 'float32' | 'float16' | 'uint8';
export const ENCODINGS: readonly Encoding[] = ['float32', 'float16', 'uint8'];

/** The parts of a `--local-mutual --out` JSON file the plot reads. */
export interface RunFile {
  command: string;
  options: { dataset: string; cohort: string[]; epochs?: number };
  results: {
    setting: string;
    member: number;
    seed: number;
    sparsity: number;
    exports?: { encoding: string; weightBytes: number; gzipBytes: number; accuracy: number }[];
  }[];
}

/** One (setting, sparsity, encoding) over its seeds. */
export interface SizePoint {
  setting: 'alone' | 'mutual';
  sparsity: number;
  encoding: Encoding;
  seeds: number[];
  meanAccuracy: number;
  minAccuracy: number;
  maxAccuracy: number;
  meanGzipBytes: number;
  weightBytes: number;
}

/**
 * Groups member 0 of the `alone` and `mutual` settings (the table's rows: with a mutual
 * cohort of two identical architectures, member 0 is the one shown) by sparsity and
 * encoding. Throws on a seed seen twice for one point, on an unknown encoding, and on a
 * point whose seeds differ from the others' (a partial run would bias its mean).
 */
export function sizePoints(files: readonly RunFile[]): SizePoint[] {
  type Key = Pick<SizePoint, 'setting' | 'sparsity' | 'encoding'>;
  const groups = new Map<
    string,
    { key: Key; rows: { seed: number; acc: number; gz: number; raw: number }[] }
  >();
  for (const file of files) {
    for (const r of file.results) {
      if (r.member !== 0 || (r.setting !== 'alone' && r.setting !== 'mutual')) continue;
      if (!r.exports?.length)
        throw new Error(`seed ${r.seed} ${r.setting} sparsity ${r.sparsity}: no exports`);
      for (const e of r.exports) {
        if (!ENCODINGS.includes(e.encoding as Encoding)) throw new Error(`unknown encoding ${e.encoding}`);
        const id = `${r.setting}/${r.sparsity}/${e.encoding}`;
        let g = groups.get(id);
        if (!g) {
          g = {
            key: { setting: r.setting, sparsity: r.sparsity, encoding: e.encoding as Encoding },
            rows: [],
          };
          groups.set(id, g);
        }
        if (g.rows.some((x) => x.seed === r.seed)) throw new Error(`${id}: seed ${r.seed} twice`);
        g.rows.push({ seed: r.seed, acc: e.accuracy, gz: e.gzipBytes, raw: e.weightBytes });
      }
    }
  }
  const points = [...groups.values()].map(({ key, rows }): SizePoint => {
    const accs = rows.map((x) => x.acc);
    const raws = new Set(rows.map((x) => x.raw));
    if (raws.size !== 1)
      throw new Error(`${key.setting}/${key.sparsity}/${key.encoding}: weights.bin sizes differ`);
    return {
      ...key,
      seeds: rows.map((x) => x.seed).sort((a, b) => a - b),
      meanAccuracy: accs.reduce((a, b) => a + b, 0) / accs.length,
      minAccuracy: Math.min(...accs),
      maxAccuracy: Math.max(...accs),
      meanGzipBytes: rows.reduce((a, x) => a + x.gz, 0) / rows.length,
      weightBytes: rows[0]!.raw,
    };
  });
  const seedSets = new Set(points.map((p) => p.seeds.join(',')));
  if (seedSets.size > 1) throw new Error(`points have different seeds: ${[...seedSets].join(' / ')}`);
  return points.sort(
    (a, b) =>
      a.setting.localeCompare(b.setting) ||
      ENCODINGS.indexOf(a.encoding) - ENCODINGS.indexOf(b.encoding) ||
      a.sparsity - b.sparsity,
  );
}

const COLORS: Record<Encoding, string> = { float32: '#1f77b4', float16: '#ff7f0e', uint8: '#2ca02c' };
const SHORT: Record<Encoding, string> = { float32: 'f32', float16: 'f16', uint8: 'u8' };
const pct = (v: number) => Number((v * 100).toFixed(2));
const sparsityLabel = (s: number) => (s === 0 ? 'dense' : `${Math.round(s * 100)}%`);

/** Six lines: {with, without} recovery × encoding, each through its sparsities by size. */
export function sizeSeries(points: readonly SizePoint[]): Series[] {
  const out: Series[] = [];
  for (const setting of ['mutual', 'alone'] as const) {
    for (const encoding of ENCODINGS) {
      const ps = points
        .filter((p) => p.setting === setting && p.encoding === encoding)
        .sort((a, b) => a.meanGzipBytes - b.meanGzipBytes);
      if (ps.length === 0) continue;
      out.push({
        name: `${SHORT[encoding]}, ${setting === 'mutual' ? 'with' : 'without'} recovery`,
        color: COLORS[encoding],
        dashed: setting === 'alone',
        points: ps.map((p) => [p.meanGzipBytes, pct(p.meanAccuracy)] as const),
        band: ps.map((p) => [p.meanGzipBytes, pct(p.minAccuracy), pct(p.maxAccuracy)] as const),
        // Label the sparsity once per encoding (the two settings' points nearly coincide in x).
        labels:
          setting === 'mutual'
            ? ps.map((p) => [p.meanGzipBytes, pct(p.maxAccuracy), sparsityLabel(p.sparsity)] as const)
            : undefined,
      });
    }
  }
  return out;
}

export function sizeAccuracyChart(points: readonly SizePoint[], subtitle: string): string {
  const base = points.find((p) => p.setting === 'alone' && p.sparsity === 0 && p.encoding === 'float32');
  const references: ReferenceLine[] = base
    ? [
        { name: `dense f32 alone (${pct(base.meanAccuracy)})`, color: '#7f7f7f', y: pct(base.meanAccuracy) },
        { name: '1 point below it', color: '#d62728', y: pct(base.meanAccuracy) - 1 },
      ]
    : [];
  return lineChart(sizeSeries(points), {
    title: `Size vs accuracy${subtitle ? ` — ${subtitle}` : ''}`,
    xLabel: 'bytes of weights.bin.gz (log; mean over seeds)',
    yLabel: 'test accuracy % of the reloaded export (mean, band = min..max)',
    logX: true,
    width: 860,
    height: 480,
    // Room above the highest band for its sparsity label.
    yMax: Math.max(...points.map((p) => pct(p.maxAccuracy))) + 0.6,
    references,
  });
}

export function readRunFiles(dir: string): RunFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunFile)
    .filter((j) => j.command === 'mutua-client --local-mutual');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? 'docs/results/compression-size';
  const files = readRunFiles(dir);
  const points = sizePoints(files);
  const what = [...new Set(files.map((f) => `${f.options.dataset}, ${f.options.cohort[0]}`))].join(' / ');
  const seeds = points[0]?.seeds.join(', ') ?? 'none';
  const epochs = [...new Set(files.map((f) => f.options.epochs))].filter((e) => e !== undefined);
  const budget = epochs.length ? `, ${epochs.join(' / ')} epochs` : '';
  writeFileSync(
    join(dir, 'size-accuracy.svg'),
    sizeAccuracyChart(points, `${what}${budget}, seeds ${seeds}`),
  );
  for (const p of points)
    console.log(
      `${p.setting.padEnd(6)} ${sparsityLabel(p.sparsity).padEnd(5)} ${p.encoding.padEnd(7)} ` +
        `acc ${pct(p.meanAccuracy).toFixed(2)} (${pct(p.minAccuracy)}–${pct(p.maxAccuracy)}) ` +
        `gz ${Math.round(p.meanGzipBytes)} raw ${p.weightBytes}`,
    );
  console.log(`wrote ${join(dir, 'size-accuracy.svg')}`);
}
