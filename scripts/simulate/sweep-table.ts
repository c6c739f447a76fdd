/**
 * The table of a --sweep: one row per sweep point and method, with each swept setting in
 * its own column, the final accuracy (mean, range over seeds), both byte columns and the
 * ratios against that point's FedAvg reference.
 */
import { mb, pct } from './report.ts';
import { byVariant, summarizeVariant } from './summary.ts';
import { isLocal, type MethodResult } from './types.ts';

const times = (r: number | null): string =>
  r === null ? '—' : r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(1)}x`;

export function sweepTable(results: readonly MethodResult[], target: number | null): string {
  const variants = byVariant(results).map((v) => summarizeVariant(v.results, target));
  const keys = [...new Set(variants.flatMap((v) => Object.keys(v.overrides)))];
  const honest = variants.some((v) => v.methods.some((m) => m.honestAccuracy));
  const header = [
    ...keys,
    'method',
    'encoding',
    'final mean acc %',
    ...(honest ? ['honest mean acc %'] : []),
    'range over seeds %',
    'MB up+down',
    'MB + public set',
    'target %',
    'MB to target',
    'MB to target (+ public set)',
    'FedAvg bytes ÷ these (to target)',
    'FedAvg bytes ÷ these (to target, + public set)',
  ];
  const rows = variants.flatMap((v) =>
    v.methods.map((m) => {
      const local = isLocal(m.method);
      const hit = m.bytesToTarget;
      const reached = (x: number | null | undefined) =>
        !hit || hit.reachedSeeds === 0 || x == null ? 'not reached' : mb(x);
      return [
        ...keys.map((k) => String(v.overrides[k] ?? '—')),
        m.method,
        m.encoding,
        pct(m.finalAccuracy.mean),
        ...(honest ? [m.honestAccuracy ? pct(m.honestAccuracy.mean) : '—'] : []),
        `${pct(m.finalAccuracy.seedMin)}–${pct(m.finalAccuracy.seedMax)}`,
        local ? '0' : mb(m.bytesProtocol),
        local ? '0' : mb(m.bytesWithPublicSet),
        v.targetAccuracy === null ? '—' : pct(v.targetAccuracy),
        reached(hit?.protocol),
        reached(hit?.withPublicSet),
        local ? '—' : times(m.ratioVsFedavg.toTargetProtocol),
        local ? '—' : times(m.ratioVsFedavg.toTargetWithPublicSet),
      ];
    }),
  );
  return `${[
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < keys.length + 2 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')}\n`;
}
