/**
 * The three plots of a simulation, as SVG text: mean participant test accuracy (with the
 * min..max band across participants) against round, against megabytes moved through the
 * coordinator (log x) and against wall time.
 */

import { byVariant } from './summary.ts';
import { lineChart, type ReferenceLine, type Series } from './svg-chart.ts';
import { isLocal, type MethodName, type MethodResult } from './types.ts';

export const METHOD_COLORS: Record<MethodName, string> = {
  'local-only': '#7f7f7f',
  centralised: '#000000',
  fedavg: '#ff7f0e',
  'fedavg-f16': '#d62728',
  'fedavg-u8': '#9467bd',
  'mutual-sync': '#1f77b4',
  'mutual-async': '#2ca02c',
};

const percent = (v: number) => `${Math.round(v * 1000) / 10}%`;

export interface Plots {
  'accuracy-vs-round.svg': string;
  'accuracy-vs-mb.svg': string;
  'accuracy-vs-time.svg': string;
}

export function plots(results: readonly MethodResult[], subtitle = ''): Plots {
  const ran = results.filter((r) => !r.skipped && r.records.length > 0);
  const suffix = subtitle ? ` — ${subtitle}` : '';
  const yLabel = 'test accuracy (mean, band = min..max)';

  const byRound: Series[] = ran.map((r) => ({
    name: r.method === 'mutual-async' ? 'mutual-async (k-th task)' : r.method,
    color: METHOD_COLORS[r.method],
    points: r.rounds.map((p) => [p.round, p.mean] as const),
    band: r.rounds.map((p) => [p.round, p.min, p.max] as const),
  }));

  // Local-only moves no bytes: it cannot sit on a log axis, so it is a reference line.
  const references: ReferenceLine[] = ran
    .filter((r) => isLocal(r.method) && r.summary)
    .map((r) => ({
      name: `${r.method} (final, 0 B)`,
      color: METHOD_COLORS[r.method],
      y: r.summary!.final.mean,
    }));
  const byBytes: Series[] = ran
    .filter((r) => !isLocal(r.method))
    .map((r) => ({
      name: r.method,
      color: METHOD_COLORS[r.method],
      points: r.timeline.map((p) => [(p.bytesUp + p.bytesDown) / 1e6, p.mean] as const),
      band: r.timeline.map((p) => [(p.bytesUp + p.bytesDown) / 1e6, p.min, p.max] as const),
    }));

  const byTime: Series[] = ran.map((r) => ({
    name: r.method,
    color: METHOD_COLORS[r.method],
    points: r.timeline.map((p) => [p.ms / 1000, p.mean] as const),
    band: r.timeline.map((p) => [p.ms / 1000, p.min, p.max] as const),
  }));

  return {
    'accuracy-vs-round.svg': lineChart(byRound, {
      title: `Accuracy per round${suffix}`,
      xLabel: 'round (async: each participant’s k-th task)',
      yLabel,
      yFormat: percent,
    }),
    'accuracy-vs-mb.svg': lineChart(byBytes, {
      title: `Accuracy vs data moved${suffix}`,
      xLabel: 'MB up + down through the coordinator (cumulative, log scale)',
      yLabel,
      logX: true,
      yFormat: percent,
      references,
    }),
    'accuracy-vs-time.svg': lineChart(byTime, {
      title: `Accuracy vs wall time${suffix}`,
      xLabel: 'wall time (s)',
      yLabel,
      yFormat: percent,
    }),
  };
}

const SWEEP_PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#7f7f7f',
];

/**
 * --sweep: accuracy against MB for every sweep point and federated method (the first seed's
 * run), one colour per point, FedAvg dashed; local methods as reference lines.
 */
export function sweepPlot(results: readonly MethodResult[], subtitle = ''): string {
  const variants = byVariant(results);
  const series: Series[] = [];
  const references: ReferenceLine[] = [];
  variants.forEach((v, i) => {
    const color = SWEEP_PALETTE[i % SWEEP_PALETTE.length]!;
    const firstSeed = v.results.find((r) => !r.skipped)?.seed;
    for (const r of v.results) {
      if (r.skipped || r.seed !== firstSeed || r.timeline.length === 0) continue;
      const name = `${v.variant} ${r.method}`.trim();
      if (isLocal(r.method)) {
        if (r.summary) references.push({ name: `${name} (0 B)`, color, y: r.summary.final.mean });
        continue;
      }
      series.push({
        name,
        color,
        dashed: !r.method.startsWith('mutual'),
        points: r.timeline.map((p) => [(p.bytesUp + p.bytesDown) / 1e6, p.mean] as const),
      });
    }
  });
  return lineChart(series, {
    title: `Accuracy vs data moved, across the sweep${subtitle ? ` — ${subtitle}` : ''}`,
    xLabel: 'MB up + down through the coordinator (cumulative, log scale)',
    yLabel: 'test accuracy (mean over participants)',
    logX: true,
    yFormat: percent,
    references,
  });
}
