/**
 * `npm run simulate -- --table DIR[,DIR...]`: a Markdown table for the docs, made from the
 * summary.json of one or more runs (never from hand-copied numbers). One row per method
 * (and sweep point), with the run's directory name as the first column when there are
 * several runs.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mb, pct } from './report.ts';
import { SUMMARY_FORMAT, type SummaryJson } from './summary-json.ts';

const times = (r: number | null): string =>
  r === null ? '—' : r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(1)}x`;

export function readSummary(dir: string): SummaryJson {
  const path = join(dir, 'summary.json');
  let parsed: SummaryJson;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as SummaryJson;
  } catch (err) {
    throw new Error(
      `cannot read ${path}: ${err instanceof Error ? err.message : String(err)} (an older run? --render ${dir} writes it from results.json)`,
    );
  }
  if (parsed.format !== SUMMARY_FORMAT) throw new Error(`${path} is not a ${SUMMARY_FORMAT} file`);
  return parsed;
}

export function docsTable(runs: readonly { name: string; summary: SummaryJson }[]): string {
  const many = runs.length > 1;
  const sweep = runs.some((r) => r.summary.variants.length > 1);
  const seeds = Math.max(...runs.map((r) => r.summary.seeds.length));
  // Poisoning runs: which attack, and the honest participants' accuracy (what the attack costs them).
  const attacked = runs.some((r) => (r.summary.attackers ?? 0) > 0);
  const header = [
    ...(many ? ['run'] : []),
    ...(sweep ? ['setting'] : []),
    'method',
    'encoding',
    `final acc %${seeds > 1 ? ' (range over seeds)' : ''}`,
    ...(attacked ? ['attackers', 'honest acc %'] : []),
    'FedAvg local after training %',
    'MB up+down',
    'MB + public set',
    'target %',
    'MB to target',
    'MB to target (+ public set)',
    'FedAvg ÷ this (to target)',
    'FedAvg ÷ this (to target, + public set)',
  ];
  const rows = runs.flatMap(({ name, summary }) =>
    summary.variants.flatMap((v) =>
      v.methods.map((m) => {
        const f = m.finalAccuracy;
        const spread = m.seeds.length > 1 ? ` (${pct(f.seedMin)}–${pct(f.seedMax)})` : '';
        const hit = m.bytesToTarget;
        const reached = (x: number | null | undefined) => (!hit || x == null ? 'not reached' : mb(x));
        const ref = v.fedavgReference?.method === m.method ? ' (reference)' : '';
        return [
          ...(many ? [name] : []),
          ...(sweep ? [v.variant || '—'] : []),
          `${m.method}${ref}`,
          m.encoding,
          `${pct(f.mean)}${spread}`,
          ...(attacked
            ? [
                summary.attackers ? `${summary.attackers} ${summary.attack}` : 'none',
                m.honestAccuracy ? pct(m.honestAccuracy.mean) : '—',
              ]
            : []),
          m.fedavgLocalAccuracy ? pct(m.fedavgLocalAccuracy.mean) : '—',
          mb(m.bytesProtocol),
          mb(m.bytesWithPublicSet),
          v.targetAccuracy === null ? '—' : pct(v.targetAccuracy),
          reached(hit?.protocol),
          reached(hit?.withPublicSet),
          times(m.ratioVsFedavg.toTargetProtocol),
          times(m.ratioVsFedavg.toTargetWithPublicSet),
        ];
      }),
    ),
  );
  const lead = (many ? 1 : 0) + (sweep ? 1 : 0) + 2;
  return `${[
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < lead ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')}\n`;
}

/** The table of the runs in `dirs` (names: their directory names). */
export function docsTableOf(dirs: readonly string[]): string {
  return docsTable(
    dirs.map((dir) => ({ name: basename(dir.replace(/\/+$/, '')), summary: readSummary(dir) })),
  );
}
