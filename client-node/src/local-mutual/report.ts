/** The results of a local mutual-learning run as a table (mean ± sample sd over seeds), JSON and CSV. */
import type { MemberResult } from './run.ts';

export interface SummaryRow {
  dataset: string;
  setting: string;
  group: string;
  arch: string;
  member: number;
  n: number;
  mean: number;
  /** Sample standard deviation over seeds (0 with one seed). */
  sd: number;
  min: number;
  max: number;
  sparsity: number;
}

export function meanSd(values: readonly number[]): { mean: number; sd: number } {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, sd: 0 };
  const ss = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

/** One row per (setting, group, member) over the seeds, in first-seen order. */
export function summarize(results: readonly MemberResult[]): SummaryRow[] {
  const groups = new Map<string, MemberResult[]>();
  for (const r of results) {
    const key = `${r.dataset}\0${r.group}\0${r.member}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const acc = rs.map((r) => r.accuracy);
    const { mean, sd } = meanSd(acc);
    const r0 = rs[0]!;
    return {
      dataset: r0.dataset,
      setting: r0.setting,
      group: r0.group,
      arch: r0.arch,
      member: r0.member,
      n: rs.length,
      mean,
      sd,
      min: Math.min(...acc),
      max: Math.max(...acc),
      sparsity: meanSd(rs.map((r) => r.sparsity)).mean,
    };
  });
}

const pct = (x: number) => (100 * x).toFixed(2);

export function formatTable(rows: readonly SummaryRow[]): string {
  const header = ['setting', 'group', 'member', 'seeds', 'test acc % (mean ± sd)', 'min–max', 'sparsity %'];
  const body = rows.map((r) => [
    r.setting,
    r.group,
    `${r.member} ${r.arch}`,
    String(r.n),
    `${pct(r.mean)} ± ${pct(r.sd)}`,
    `${pct(r.min)}–${pct(r.max)}`,
    (100 * r.sparsity).toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** One CSV line per trained model (and per exported variant when there are exports). */
export function toCsv(results: readonly MemberResult[]): string {
  const head =
    'dataset,setting,group,member,arch,seed,accuracy,loss,params,sparsity,train_ms,encoding,weight_bytes,gzip_bytes,export_accuracy';
  const lines = [head];
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  for (const r of results) {
    const base = [
      r.dataset,
      r.setting,
      quote(r.group),
      r.member,
      r.arch,
      r.seed,
      r.accuracy,
      r.loss,
      r.params,
      r.sparsity,
      r.trainMs,
    ];
    if (!r.exports?.length) lines.push([...base, '', '', '', ''].join(','));
    for (const e of r.exports ?? []) {
      lines.push([...base, e.encoding, e.weightBytes, e.gzipBytes, e.accuracy ?? ''].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}
