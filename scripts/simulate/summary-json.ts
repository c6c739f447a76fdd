/**
 * summary.json: the figures of summary.md as data, so docs tables can be generated from it
 * (`npm run simulate -- --table DIR`). Per method: method, encoding, finalAccuracy ({mean,
 * min, max} over participants, the spread over seeds, per seed), fedavgGlobalAccuracy and
 * fedavgLocalAccuracy (FedAvg), honestAccuracy (--attackers: over the honest participants), bytesProtocol, bytesWithPublicSet, bytesToTarget, the
 * ratios against the FedAvg reference for both byte columns, and vsFedavg (bytes to the
 * lower of this method's and FedAvg's final accuracies). For the run: targetAccuracy, the
 * FedAvg reference and why, bytesToTarget and ratiosVsFedavg by method. Under --sweep the
 * same per sweep point in `variants`, the top level being the first point.
 */
import type { SimulationReport } from './output.ts';
import { byVariant, summarizeVariant, type VariantSummary } from './summary.ts';

export const SUMMARY_FORMAT = 'mutua-simulate-summary-v1';

export interface SummaryJson extends VariantSummary {
  format: typeof SUMMARY_FORMAT;
  command: string;
  startedAt: string;
  interrupted: boolean;
  dataset: string;
  clients: number;
  alpha: number;
  seeds: number[];
  rounds: number;
  epochs: number;
  models: string[];
  limit: number | null;
  publicCount: number;
  testCount: number;
  /** One participant's download of the public set (mutua-public-v1 bytes). */
  publicSetFileBytes: number;
  clientSizes: number[];
  /** --attackers: how many (the last ones) and what they upload; 0 and null when nobody attacks. */
  attackers: number;
  attack: string | null;
  bytesToTarget: Record<string, { protocol: number | null; withPublicSet: number | null } | null>;
  ratiosVsFedavg: Record<
    string,
    {
      protocol: number | null;
      withPublicSet: number | null;
      toTargetProtocol: number | null;
      toTargetWithPublicSet: number | null;
    }
  >;
  sweep: { key: string; values: (string | number)[] }[];
  variants: VariantSummary[];
}

export function summaryJson(report: SimulationReport): SummaryJson {
  const { info, options: o } = report;
  const variants = byVariant(report.results).map((v) => summarizeVariant(v.results, o.target ?? null));
  const head = variants[0] ?? summarizeVariant([]);
  return {
    format: SUMMARY_FORMAT,
    command: info.command,
    startedAt: info.startedAt,
    interrupted: info.interrupted,
    dataset: o.dataset,
    clients: o.clients,
    alpha: o.alpha,
    seeds: o.seeds ?? [o.seed],
    rounds: o.rounds,
    epochs: o.epochs,
    models: o.models,
    limit: o.limit ?? null,
    publicCount: info.publicCount,
    testCount: info.testCount,
    publicSetFileBytes: info.publicSetBytes,
    clientSizes: info.clientSizes,
    attackers: o.attackers ?? 0,
    attack: o.attack ?? null,
    ...head,
    bytesToTarget: Object.fromEntries(
      head.methods.map((m) => [
        m.method,
        m.bytesToTarget && {
          protocol: m.bytesToTarget.protocol,
          withPublicSet: m.bytesToTarget.withPublicSet,
        },
      ]),
    ),
    ratiosVsFedavg: Object.fromEntries(head.methods.map((m) => [m.method, m.ratioVsFedavg])),
    sweep: o.sweep ?? [],
    variants,
  };
}
