/**
 * Several runs of the harness on one split, read as one: the FedAvg runs of a baseline run
 * (e.g. fedavg, fedavg-f16, fedavg-u8) and the federated runs of later runs (e.g. one
 * mutual-sync run per payload encoding, from --sweep). Each later run becomes a sweep point
 * that holds the baseline's FedAvg runs too, so summary.json compares every encoding with
 * the FedAvg reference (vsFedavg: bytes to the lower of the two final accuracies) exactly
 * as a single sweep with FedAvg in --methods would, without running FedAvg again. The runs
 * must share every setting that makes the split and FedAvg's training: `combineReports`
 * refuses them otherwise. A run that did not finish its rounds (a sweep stopped with Ctrl-C)
 * is left out, and a note on the first point says so.
 */

import type { SimulationReport } from './output.ts';
import { mb, pct } from './report.ts';
import { summarizeVariant } from './summary.ts';
import { lineChart, type Series } from './svg-chart.ts';
import { isFedAvg, isLocal, type MethodName, type MethodResult } from './types.ts';

/** Options that decide the split and FedAvg's training: they must be equal across the runs. */
const SAME_OPTIONS = [
  'dataset',
  'clients',
  'alpha',
  'seed',
  'publicSize',
  'testSize',
  'limit',
  'rounds',
  'models',
  'epochs',
  'batchSize',
  'stragglers',
  'slowdown',
] as const;
const SAME_INFO = ['clientSizes', 'publicCount', 'testCount'] as const;

/** What differs between two runs in the settings above ("" entries never; [] when they match). */
export function settingsMismatch(a: SimulationReport, b: SimulationReport): string[] {
  const out: string[] = [];
  const eq = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const ao = a.options as unknown as Record<string, unknown>;
  const bo = b.options as unknown as Record<string, unknown>;
  for (const k of SAME_OPTIONS)
    if (!eq(ao[k], bo[k])) out.push(`${k}: ${JSON.stringify(ao[k])} ≠ ${JSON.stringify(bo[k])}`);
  const ai = a.info as unknown as Record<string, unknown>;
  const bi = b.info as unknown as Record<string, unknown>;
  for (const k of SAME_INFO)
    if (!eq(ai[k], bi[k])) out.push(`${k}: ${JSON.stringify(ai[k])} ≠ ${JSON.stringify(bi[k])}`);
  if ((a.options.seeds ?? [a.options.seed]).length > 1 || (b.options.seeds ?? [b.options.seed]).length > 1)
    out.push('seeds: combine runs of one seed each');
  return out;
}

/** A short name for a run's payload settings: "soft1+deflate+delta", "uint8". */
export function encodingLabel(r: MethodResult): string {
  if (isFedAvg(r.method)) return `${r.method} (${r.encoding ?? 'float32'})`;
  const o = r.overrides ?? {};
  const parts = [String(o.encodings ?? r.encoding ?? 'default').replace(/\+/g, '/')];
  if (o.targetEncodings !== undefined)
    parts[0] += `, targets ${String(o.targetEncodings).replace(/\+/g, '/')}`;
  if (o.compressions !== undefined && o.compressions !== 'none')
    parts.push(String(o.compressions).replace('-raw', ''));
  if (String(o.delta) === 'true') parts.push('delta');
  const rest = Object.entries(o)
    .filter(([k]) => !['encodings', 'targetEncodings', 'compressions', 'delta'].includes(k))
    .map(([k, v]) => `${k}=${v}`);
  return [parts.join('+'), ...rest].join(' ');
}

/**
 * One report: for every federated, non-FedAvg result of `runs`, a sweep point named by its
 * encoding label holding it and the baseline's `baselineMethods` results.
 */
export function combineReports(
  baseline: SimulationReport,
  baselineMethods: readonly MethodName[],
  runs: readonly SimulationReport[],
  command: string,
): SimulationReport {
  for (const run of runs) {
    const diff = settingsMismatch(baseline, run);
    if (diff.length) throw new Error(`runs differ from the baseline in: ${diff.join('; ')}`);
  }
  const base = baseline.results.filter((r) => baselineMethods.includes(r.method) && !r.skipped);
  const missing = baselineMethods.filter((m) => !base.some((r) => r.method === m));
  if (missing.length) throw new Error(`the baseline run has no ${missing.join(', ')}`);
  const federated = runs.flatMap((run) =>
    run.results
      .filter((r) => !r.skipped && !isLocal(r.method) && !isFedAvg(r.method))
      .map((r) => ({ r, rounds: run.options.rounds })),
  );
  // A sweep stopped with Ctrl-C keeps the point it was in the middle of: leave it out, said.
  const points = federated.filter(({ r, rounds }) => (r.summary?.rounds ?? 0) >= rounds).map(({ r }) => r);
  const leftOut = federated
    .filter(({ r, rounds }) => (r.summary?.rounds ?? 0) < rounds)
    .map(
      ({ r, rounds }) =>
        `${r.method} ${encodingLabel(r)}: left out, ${r.summary?.rounds ?? 0} of ${rounds} rounds`,
    );
  if (points.length === 0) throw new Error('no federated run to combine');
  const labels = points.map(encodingLabel);
  if (new Set(labels).size !== labels.length) throw new Error(`two runs share a label: ${labels.join(', ')}`);
  const results: MethodResult[] = points.flatMap((r, i) => {
    const variant = labels[i]!;
    const notes = i === 0 ? [...r.notes, ...leftOut] : r.notes;
    return [
      ...base.map((b) => ({ ...b, variant, overrides: {} })),
      { ...r, variant, overrides: r.overrides ?? {}, notes },
    ];
  });
  const first = runs[0]!;
  return {
    info: {
      ...first.info,
      command,
      startedAt: [baseline, ...runs].map((r) => r.info.startedAt).sort()[0]!,
      wallMs: [baseline, ...runs].reduce((a, r) => a + r.info.wallMs, 0),
      // Only complete runs are kept (see leftOut), so the combination is not partial.
      interrupted: baseline.info.interrupted,
    },
    options: {
      ...first.options,
      methods: [...baselineMethods, ...new Set(points.map((p) => p.method))],
      sweep: [{ key: 'run', values: labels }],
    },
    target: null,
    results,
  };
}

const PALETTE = ['#1f77b4', '#2ca02c', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f', '#000000'];
const FEDAVG_COLORS: Record<string, string> = {
  fedavg: '#ff7f0e',
  'fedavg-f16': '#d62728',
  'fedavg-u8': '#9467bd',
};

/**
 * Accuracy against cumulative MB (log x), one curve per encoding: each baseline FedAvg run
 * once (dashed), then every sweep point's federated run. `withPublicSet` adds the run's
 * public-set download (as the coordinator sent it) to every point of its curve.
 */
export function encodingsPlot(report: SimulationReport, withPublicSet: boolean, subtitle = ''): string {
  const series: Series[] = [];
  const seen = new Set<string>();
  let i = 0;
  for (const r of report.results) {
    if (r.skipped || r.timeline.length === 0 || isLocal(r.method)) continue;
    const fed = isFedAvg(r.method);
    // mutual-sync's curves are named by their encoding alone, to fit the legend.
    const label = r.variant ?? encodingLabel(r);
    const name = fed ? encodingLabel(r) : r.method === 'mutual-sync' ? label : `${r.method} ${label}`;
    if (seen.has(name)) continue;
    seen.add(name);
    const extra = withPublicSet ? (r.summary?.publicSetBytes ?? 0) : 0;
    series.push({
      name,
      color: fed ? (FEDAVG_COLORS[r.method] ?? '#ff7f0e') : PALETTE[i++ % PALETTE.length]!,
      dashed: fed,
      points: r.timeline.map((p) => [(p.bytesUp + p.bytesDown + extra) / 1e6, p.mean] as const),
    });
  }
  return lineChart(series, {
    title: `Accuracy vs data moved, per encoding${subtitle ? ` — ${subtitle}` : ''}`,
    xLabel: withPublicSet
      ? 'MB up + down + public-set download (cumulative, log scale)'
      : 'MB up + down through the coordinator (cumulative, log scale)',
    yLabel: 'test accuracy (mean over participants; FedAvg: global model)',
    logX: true,
    yFormat: (v) => `${Math.round(v * 1000) / 10}%`,
    width: 860,
  });
}

const times = (r: number | null | undefined): string =>
  r == null ? '—' : r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(1)}x`;

/**
 * The docs table: per encoding, final accuracy, both byte columns over the run, and bytes to
 * the lower of this method's and the FedAvg reference's final accuracies with the reference's
 * bytes to the same accuracy divided by these, without and with the public-set download.
 */
export function encodingsTable(report: SimulationReport): string {
  const header = [
    'encoding',
    'final acc %',
    'protocol MB',
    'MB + public set',
    'target %',
    'MB to target',
    'MB to target + public set',
    'reference ÷ this, to target',
    'reference ÷ this, to target + public set',
  ];
  const rows: string[][] = [];
  const seen = new Set<string>();
  const variants = new Map<string, MethodResult[]>();
  for (const r of report.results)
    variants.set(r.variant ?? '', [...(variants.get(r.variant ?? '') ?? []), r]);
  for (const [variant, results] of variants) {
    const v = summarizeVariant(results);
    const ref = v.methods.find((m) => m.method === v.fedavgReference?.method);
    for (const m of v.methods) {
      const fed = isFedAvg(m.method);
      const name = fed
        ? `${m.method} (${m.encoding})${m === ref ? ', reference' : ''}`
        : `${m.method} ${variant}`;
      if (seen.has(name) || isLocal(m.method)) continue;
      seen.add(name);
      const x = m.vsFedavg;
      const reached = (b: number | null | undefined) => (b == null ? 'not reached' : mb(b));
      rows.push([
        name,
        pct(m.finalAccuracy.mean),
        mb(m.bytesProtocol),
        mb(m.bytesWithPublicSet),
        x ? pct(x.targetAccuracy) : '—',
        x ? reached(x.bytesProtocol) : '—',
        x ? reached(x.bytesWithPublicSet) : '—',
        times(x?.ratioProtocol),
        times(x?.ratioWithPublicSet),
      ]);
    }
  }
  return `${[
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')}\n`;
}
