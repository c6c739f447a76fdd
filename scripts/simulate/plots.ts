/**
 * The three plots of a simulation, as SVG text: mean participant test accuracy (with the
 * min..max band across participants) against round, against megabytes moved through the
 * coordinator (log x) and against wall time.
 */
import { lineChart, type ReferenceLine, type Series } from './svg-chart.ts';
import type { MethodName, MethodResult } from './types.ts';

export const METHOD_COLORS: Record<MethodName, string> = {
  'local-only': '#7f7f7f',
  fedavg: '#ff7f0e',
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
  const local = ran.find((r) => r.method === 'local-only');
  const references: ReferenceLine[] = local?.summary
    ? [{ name: 'local-only (final, 0 B)', color: METHOD_COLORS['local-only'], y: local.summary.final.mean }]
    : [];
  const byBytes: Series[] = ran
    .filter((r) => r.method !== 'local-only')
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
