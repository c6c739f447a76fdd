/**
 * Everything a simulation writes into --out: results.json (the whole run), rounds.csv,
 * timeline.csv, records.csv, summary.md (settings, split, the comparison table, the claims
 * checked, notes) and the three SVG plots.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimulateOptions } from './options.ts';
import { plots } from './plots.ts';
import {
  claimChecks,
  defaultTarget,
  markdownTable,
  mb,
  pct,
  recordsCsv,
  roundsCsv,
  timelineCsv,
} from './report.ts';
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
  return { info, options, target: options.target ?? defaultTarget(results), results };
}

export function summaryMarkdown(report: SimulationReport): string {
  const { info, options: o, results, target } = report;
  const archs = [...new Set(results[0]?.participants.map((p) => p.model) ?? o.models)].join(', ');
  const sizes = info.clientSizes;
  const checks = claimChecks(results, o);
  const errors = results.flatMap((r) => r.errors);
  const notes = results.flatMap((r) => r.notes ?? []);
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
    `| split | seed ${o.seed}, Dirichlet alpha ${o.alpha}; public ${info.publicCount}, test ${info.testCount} held out |`,
    `| private samples per participant | ${sizes.length ? `${Math.min(...sizes)}–${Math.max(...sizes)} (total ${sizes.reduce((a, b) => a + b, 0)})` : '—'} |`,
    `| models | ${archs}${o.models.length > 1 ? ' (round-robin)' : ''} |`,
    `| rounds | ${o.rounds} per participant, ${o.epochs} local epoch(s) each, batch ${o.batchSize} |`,
    `| mutual distillation | T ${o.temperature}, lambda ${o.lambda}, ${o.aggregation}, ${Math.min(o.publicBatch, o.publicSize)} public samples per round |`,
    `| async | bufferK ${o.bufferK}, max staleness ${o.maxStaleness}, weight (1+tau)^-${o.stalenessExponent} |`,
    `| stragglers | ${o.stragglers === 0 ? 'none' : `${o.stragglers} of ${o.clients} (the last), ${o.slowdown}x slower`} |`,
    '',
    '## Results',
    '',
    markdownTable(results, { target }).trimEnd(),
    '',
    ...(checks.length ? ['## Claims checked', '', ...checks, ''] : []),
    '## Plots',
    '',
    '![accuracy vs round](accuracy-vs-round.svg)',
    '![accuracy vs MB](accuracy-vs-mb.svg)',
    '![accuracy vs wall time](accuracy-vs-time.svg)',
    '',
    '## How to read this',
    '',
    "- Accuracy is each participant's own model on the held-out test set (no participant trains on it), reported after every round; mean, min and max are across participants, after their last round.",
    '- MB are 10^6 bytes of WebSocket frames in both directions as counted by the coordinator (`GET /v1/federations/:id/traffic`), sampled once a second and interpolated. ' +
      `The public set (${mb(info.publicSetBytes)} MB as mutua-public-v1) is downloaded once per participant over HTTP and shown apart.`,
    '- "time to X%" and "MB to X%" read the first moment the mean over every participant\'s latest report reached X. ' +
      (target === null
        ? ''
        : `X = ${pct(target)}%${o.target === undefined ? ', the lowest final mean among the federated methods' : ''}.`),
    '- mutual-async rounds are each participant\'s own tasks; its "versions" are consensus versions the coordinator published.',
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
  const files: Record<string, string> = {
    'results.json': `${JSON.stringify(report, null, 1)}\n`,
    'rounds.csv': roundsCsv(report.results),
    'timeline.csv': timelineCsv(report.results),
    'records.csv': recordsCsv(report.results),
    'summary.md': summaryMarkdown(report),
    ...plots(report.results, `${o.dataset}, ${o.clients} participants, alpha ${o.alpha}`),
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
  return writeOutputs(dir, report);
}
