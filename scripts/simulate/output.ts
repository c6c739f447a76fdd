/**
 * Everything a simulation writes into --out: results.json (the whole run), rounds.csv,
 * timeline.csv, records.csv, summary.md (settings, split, the comparison table, the claims
 * checked, notes) and the three SVG plots.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimulateOptions } from './options.ts';
import { plots, sweepPlot } from './plots.ts';
import {
  claimChecks,
  defaultTarget,
  markdownTable,
  mb,
  pct,
  recordsCsv,
  roundsCsv,
  tableNotes,
  timelineCsv,
} from './report.ts';
import { byVariant, summarizeVariant } from './summary.ts';
import { summaryJson } from './summary-json.ts';
import { sweepTable } from './sweep-table.ts';
import type { MethodResult } from './types.ts';

export interface RunInfo {
  /** The command as typed, for the record. */
  command: string;
  startedAt: string;
  wallMs: number;
  /** Private samples per participant. */
  clientSizes: number[];
  publicCount: number;
  publicSetBytes: number;
  testCount: number;
  /** e.g. "wasm (2 cores)". */
  machine: string;
  interrupted: boolean;
}

export interface SimulationReport {
  info: RunInfo;
  options: SimulateOptions;
  /** Accuracy at which the "to reach X%" columns are read. */
  target: number | null;
  results: MethodResult[];
}

export function buildReport(
  info: RunInfo,
  options: SimulateOptions,
  results: MethodResult[],
): SimulationReport {
  // Under a sweep each point reads its own default target (see summary.ts).
  const sweep = byVariant(results).length > 1;
  const target = options.target ?? (sweep ? null : summarizeVariant(results).targetAccuracy);
  return { info, options, target: target ?? (sweep ? null : defaultTarget(results)), results };
}

/** The results table of one sweep point (or of the run), with its notes and claims. */
function resultsSection(report: SimulationReport, results: MethodResult[], heading: string): string[] {
  const { options: o } = report;
  const target = o.target ?? summarizeVariant(results).targetAccuracy ?? report.target;
  const checks = claimChecks(results, o);
  const notes = tableNotes(results);
  return [
    heading,
    '',
    markdownTable(results, { target }).trimEnd(),
    '',
    ...(notes.length ? [...notes, ''] : []),
    ...(checks.length ? [`${heading.replace(/^(#+).*/, '$1')}# Claims checked`, '', ...checks, ''] : []),
  ];
}

export function summaryMarkdown(report: SimulationReport): string {
  const { info, options: o, results, target } = report;
  const archs = [...new Set(results[0]?.participants.map((p) => p.model) ?? o.models)].join(', ');
  const sizes = info.clientSizes;
  const errors = results.flatMap((r) => r.errors);
  const notes = results.flatMap((r) => r.notes ?? []);
  const variants = byVariant(results);
  const seeds = o.seeds ?? [o.seed];
  const sweep = o.sweep ?? [];
  const lines = [
    `# Simulation: ${o.dataset}, ${o.clients} participants, alpha ${o.alpha}`,
    '',
    '```',
    info.command,
    '```',
    '',
    `Started ${info.startedAt}; took ${(info.wallMs / 60000).toFixed(1)} min on ${info.machine}.${info.interrupted ? ' **Interrupted: partial results.**' : ''}`,
    '',
    '| setting | value |',
    '| --- | --- |',
    `| data | ${o.dataset} (train + test sets, ${o.limit === undefined ? 'all samples' : `first ${o.limit * o.clients + o.publicSize + o.testSize}`}) |`,
    `| split | seed${seeds.length > 1 ? `s ${seeds.join(', ')}` : ` ${seeds[0]}`}, Dirichlet alpha ${o.alpha}; public ${info.publicCount}, test ${info.testCount} held out |`,
    `| private samples per participant | ${sizes.length ? `${Math.min(...sizes)}–${Math.max(...sizes)} (total ${sizes.reduce((a, b) => a + b, 0)})${seeds.length > 1 ? ` (seed ${seeds[0]})` : ''}` : '—'} |`,
    `| models | ${archs}${o.models.length > 1 ? ' (round-robin)' : ''} |`,
    `| rounds | ${o.rounds} per participant, ${o.epochs} local epoch(s) each, batch ${o.batchSize} |`,
    `| mutual distillation | T ${o.temperature}, lambda ${o.lambda}, ${o.aggregation}, ${Math.min(o.publicBatch, o.publicSize)} public samples per round |`,
    `| async | bufferK ${o.bufferK}, max staleness ${o.maxStaleness}, weight (1+tau)^-${o.stalenessExponent} |`,
    `| stragglers | ${o.stragglers === 0 ? 'none' : `${o.stragglers} of ${o.clients} (the last), ${o.slowdown}x slower`} |`,
    ...(o.attackers
      ? [
          `| attackers | ${o.attackers} of ${o.clients} (the last), uploading \`${o.attack}\` (mutual methods; honest elsewhere) |`,
        ]
      : []),
    ...(sweep.length
      ? [`| sweep | ${sweep.map((a) => `${a.key} ∈ {${a.values.join(', ')}}`).join(' × ')} |`]
      : []),
    '',
    ...(sweep.length
      ? [
          '## Sweep',
          '',
          sweepTable(results, o.target ?? null).trimEnd(),
          '',
          '![accuracy vs MB across the sweep](accuracy-vs-mb-sweep.svg)',
          '',
          ...variants.flatMap((v) => resultsSection(report, v.results, `## ${v.variant || 'Results'}`)),
        ]
      : resultsSection(report, results, '## Results')),
    '## Plots',
    '',
    ...(variants.length > 1 || seeds.length > 1
      ? [
          `Plotted: seed ${seeds[0]}${variants.length > 1 ? `, sweep point ${variants[0]!.variant}` : ''} (every run is in results.json and the CSVs).`,
          '',
        ]
      : []),
    '![accuracy vs round](accuracy-vs-round.svg)',
    '![accuracy vs MB](accuracy-vs-mb.svg)',
    '![accuracy vs wall time](accuracy-vs-time.svg)',
    '',
    '## How to read this',
    '',
    "- Accuracy is each participant's own model on the held-out test set (no participant trains on it), reported after every round; mean, min and max are across participants, after their last round. " +
      "FedAvg's is its global model, scored as the participants load it, before local training (so min = max).",
    ...(seeds.length > 1
      ? [
          `- With ${seeds.length} seeds (split, models and federation), a figure is the mean over seeds; "range over seeds" is the lowest and highest seed's final mean accuracy; per-seed figures are in summary.json.`,
        ]
      : []),
    '- MB are 10^6 bytes of WebSocket frames in both directions as counted by the coordinator (`GET /v1/federations/:id/traffic`), sampled once a second and interpolated. ' +
      publicSetSentence(info.publicSetBytes, results),
    '- "time to X%" and "MB to X%" read the first moment the mean over every participant\'s latest report reached X. ' +
      (target === null
        ? ''
        : `X = ${pct(target)}%${o.target === undefined ? ', the lowest final mean among the FedAvg reference and the mutual methods, rounded down to half a point' : ''}. ` +
          '("bytes to reach" lines name their own figure: the lower of that method\'s final mean and FedAvg\'s, not rounded.)'),
    ...(o.attackers
      ? [
          `- "honest mean" is the final mean accuracy over the ${o.clients - o.attackers} participants that do not attack (the same participants in every method); "final mean" includes the attackers' own models.`,
        ]
      : []),
    '- mutual-async rounds are each participant\'s own tasks; its "versions" are consensus versions the coordinator published.',
    '- centralised is one model trained on the union of the private shards, same model, epochs and rounds (the upper bound); local-only trains each shard alone.',
    "- Wall time includes loading data and the tfjs backend in each process; all participants share this machine's cores.",
    ...(notes.length ? ['', '## Notes', '', ...notes.map((n) => `- ${n}`)] : []),
    ...(errors.length ? ['', '## Errors', '', ...errors.map((e) => `- ${e.replace(/\n/g, '\n  ')}`)] : []),
    '',
  ];
  return lines.join('\n');
}

/** Writes every output file; returns their paths. */
export function writeOutputs(dir: string, report: SimulationReport): string[] {
  mkdirSync(dir, { recursive: true });
  const { options: o } = report;
  const subtitle = `${o.dataset}, ${o.clients} participants, alpha ${o.alpha}`;
  const variants = byVariant(report.results);
  const first = variants[0]?.results ?? [];
  const firstSeed = first.find((r) => r.seed !== undefined)?.seed;
  const plotted = first.filter((r) => r.seed === firstSeed);
  const files: Record<string, string> = {
    'results.json': `${JSON.stringify(report, null, 1)}\n`,
    'summary.json': `${JSON.stringify(summaryJson(report), null, 1)}\n`,
    'rounds.csv': roundsCsv(report.results),
    'timeline.csv': timelineCsv(report.results),
    'records.csv': recordsCsv(report.results),
    'summary.md': summaryMarkdown(report),
    ...plots(plotted, subtitle),
    ...((o.sweep ?? []).length ? { 'accuracy-vs-mb-sweep.svg': sweepPlot(report.results, subtitle) } : {}),
  };
  return Object.entries(files).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}

/** Rewrites every output of an earlier run from its results.json (after a change to the report). */
export function renderAgain(dir: string): string[] {
  const report = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as SimulationReport;
  for (const r of report.results) r.notes ??= [];
  // Runs from before --seeds and --sweep.
  report.options.seeds ??= [report.options.seed];
  report.options.sweep ??= [];
  return writeOutputs(dir, report);
}

/** How the "+ public set" columns count the public set's one-off download. */
function publicSetSentence(fileBytes: number, results: readonly MethodResult[]): string {
  const mutual = results.filter((r) => r.method.startsWith('mutual') && r.summary);
  const onWire = mutual.filter((r) => r.summary!.publicSetOnWire);
  if (onWire.length === 0 || onWire.length < mutual.length) {
    return `The public set (${mb(fileBytes)} MB as mutua-public-v1) is downloaded once per participant over HTTP: "+ public set" columns add it, uncompressed (mutual methods only; FedAvg has no use for it).`;
  }
  const perParticipant =
    onWire.reduce((a, r) => a + r.summary!.publicSetBytes / r.participants.length, 0) / onWire.length;
  return `The public set (${mb(fileBytes)} MB as mutua-public-v1) is downloaded once per participant over HTTP, compressed as the participant accepts (brotli or gzip): "+ public set" columns add what the coordinator sent for it during the method (\`mutua_public_set_bytes_sent_total\`; ${mb(perParticipant)} MB per participant on average; mutual methods only, FedAvg has no use for it).`;
}
