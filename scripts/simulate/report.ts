/**
 * The comparison table (Markdown) and the CSV files of a simulation. Pure: results in,
 * strings out. MB are 10^6 bytes; accuracies are shown in percent.
 */
import { reach, roundsToReach } from './aggregate.ts';
import type { MethodResult } from './types.ts';

const FEDERATED = new Set(['fedavg', 'mutual-sync', 'mutual-async']);

/**
 * The accuracy "MB / time to reach X%" is read at when none is given: the lowest final
 * mean accuracy among the federated methods that ran (rounded down to half a point), so
 * every one of them has a value and the columns compare like with like.
 */
export function defaultTarget(results: readonly MethodResult[]): number | null {
  const finals = results
    .filter((r) => FEDERATED.has(r.method) && r.summary && r.summary.final.n > 0)
    .map((r) => r.summary!.final.mean);
  if (finals.length === 0) return null;
  return Math.floor(Math.min(...finals) * 200) / 200;
}

export const pct = (v: number): string => (Number.isFinite(v) ? (v * 100).toFixed(1) : '—');
export const mb = (bytes: number): string => {
  const v = bytes / 1e6;
  if (v === 0) return '0';
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
};
export const seconds = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
const ratio = (a: number, b: number): string => {
  if (!(a > 0) || !(b > 0)) return '—';
  const r = a / b;
  return r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(1)}x`;
};

export interface TableOptions {
  /** Accuracy (0..1) at which "MB to X%" and "time to X%" are read; null leaves them out. */
  target: number | null;
}

/** One row per method; skipped methods are listed below the table with the reason. */
export function markdownTable(results: readonly MethodResult[], options: TableOptions): string {
  const { target } = options;
  const ran = results.filter((r) => !r.skipped && r.summary);
  const fedavg = ran.find((r) => r.method === 'fedavg');
  const fedavgTotal = fedavg ? fedavg.summary!.bytesUp + fedavg.summary!.bytesDown : 0;
  const fedavgReach = fedavg && target !== null ? reach(fedavg.timeline, target) : null;
  const t = target === null ? '' : pct(target);
  const header = [
    'method',
    'final mean acc %',
    'min %',
    'max %',
    'rounds',
    'MB up+down',
    ...(target === null ? [] : [`round to ${t}%`, `MB to ${t}%`, `time to ${t}% (s)`]),
    'wall time (s)',
    'FedAvg bytes ÷ these (total)',
    ...(target === null ? [] : [`FedAvg bytes ÷ these (to ${t}%)`]),
    'public set MB (HTTP, once)',
  ];
  const rows = ran.map((r) => {
    const s = r.summary!;
    const total = s.bytesUp + s.bytesDown;
    const local = r.method === 'local-only';
    const hit = target === null ? null : reach(r.timeline, target);
    const round = target === null ? null : roundsToReach(r.rounds, target);
    const rounds = r.method === 'mutual-async' ? `${s.rounds} (${s.versions} versions)` : String(s.rounds);
    return [
      r.method,
      pct(s.final.mean),
      pct(s.final.min),
      pct(s.final.max),
      rounds,
      local ? '0' : mb(total),
      ...(target === null
        ? []
        : [
            round === null ? 'not reached' : String(round),
            hit === null ? 'not reached' : local ? '0' : mb(hit.bytes),
            hit === null ? 'not reached' : seconds(hit.ms),
          ]),
      seconds(s.wallMs),
      local || !fedavg ? '—' : ratio(fedavgTotal, total),
      ...(target === null ? [] : [local || !fedavgReach || !hit ? '—' : ratio(fedavgReach.bytes, hit.bytes)]),
      s.publicSetBytes > 0 ? mb(s.publicSetBytes) : '0',
    ];
  });
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
  ];
  for (const r of results) if (r.skipped) lines.push('', `${r.method}: not run — ${r.skipped}`);
  return `${lines.join('\n')}\n`;
}

/** RFC 4180: quote fields holding a comma, quote or newline. */
export function csv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const field = (v: string | number) => {
    const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[header, ...rows].map((row) => row.map(field).join(',')).join('\n')}\n`;
}

/** Per method and round: accuracy over the participants' k-th reports, bytes and time then. */
export function roundsCsv(results: readonly MethodResult[]): string {
  return csv(
    [
      'method',
      'round',
      'participants',
      'mean_acc',
      'min_acc',
      'max_acc',
      'bytes_up',
      'bytes_down',
      'mb_total',
      'wall_s',
    ],
    results.flatMap((r) =>
      r.rounds.map((p) => [
        r.method,
        p.round,
        p.n,
        round4(p.mean),
        round4(p.min),
        round4(p.max),
        p.bytesUp,
        p.bytesDown,
        round4((p.bytesUp + p.bytesDown) / 1e6),
        round4(p.ms / 1000),
      ]),
    ),
  );
}

/** Per method, after every report: accuracy over the participants' latest reports. */
export function timelineCsv(results: readonly MethodResult[]): string {
  return csv(
    [
      'method',
      'wall_s',
      'participants',
      'mean_acc',
      'min_acc',
      'max_acc',
      'bytes_up',
      'bytes_down',
      'mb_total',
    ],
    results.flatMap((r) =>
      r.timeline.map((p) => [
        r.method,
        round4(p.ms / 1000),
        p.n,
        round4(p.mean),
        round4(p.min),
        round4(p.max),
        p.bytesUp,
        p.bytesDown,
        round4((p.bytesUp + p.bytesDown) / 1e6),
      ]),
    ),
  );
}

/** Every participant's every report, for analyses the summary does not do. */
export function recordsCsv(results: readonly MethodResult[]): string {
  return csv(
    [
      'method',
      'participant',
      'model',
      'slowdown',
      'step',
      'round',
      'test_acc',
      'train_loss',
      'staleness',
      'wall_s',
    ],
    results.flatMap((r) =>
      r.records.map((x) => {
        const plan = r.participants[x.p];
        return [
          r.method,
          x.p,
          plan?.model ?? '',
          plan?.slowdown ?? 1,
          x.step,
          x.round,
          round4(x.testAccuracy),
          round4(x.trainLoss),
          x.staleness,
          round4(x.ms / 1000),
        ];
      }),
    ),
  );
}

function round4(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : Number.NaN;
}

/**
 * The claims, checked on these results (when the methods they compare ran):
 * mutual distillation vs local-only (+10 points), vs FedAvg (within 2 points, 50x fewer
 * bytes to reach the lower of the two final accuracies), and with stragglers async vs sync
 * (sync's final accuracy in at most half of sync's wall time; checked only in runs with
 * stragglers, the setting the target is about). Lines of Markdown.
 */
export function claimChecks(results: readonly MethodResult[], run: { stragglers: number }): string[] {
  const get = (m: string) =>
    results.find((r) => r.method === m && !r.skipped && r.summary && r.summary.final.n > 0);
  const local = get('local-only');
  const fedavg = get('fedavg');
  const sync = get('mutual-sync');
  const asyn = get('mutual-async');
  const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');
  const points = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
  const out: string[] = [];
  for (const m of [sync, asyn]) {
    if (!m) continue;
    const s = m.summary!;
    if (local) {
      const d = s.final.mean - local.summary!.final.mean;
      out.push(
        `- ${m.method} vs local-only: ${points(d)} points mean test accuracy (target ≥ +10): ${verdict(d >= 0.1)}`,
      );
    }
    if (fedavg) {
      const f = fedavg.summary!;
      const gap = f.final.mean - s.final.mean;
      out.push(
        `- ${m.method} vs FedAvg final accuracy: ${pct(s.final.mean)}% vs ${pct(f.final.mean)}%, ${(Math.abs(gap) * 100).toFixed(1)} points ${gap > 0 ? 'below' : 'above'} (target: at most 2 below): ${verdict(gap <= 0.02)}`,
      );
      const x = Math.min(s.final.mean, f.final.mean);
      const mine = reach(m.timeline, x);
      const theirs = reach(fedavg.timeline, x);
      if (mine && theirs && mine.bytes > 0) {
        const r = theirs.bytes / mine.bytes;
        out.push(
          `- bytes to reach ${pct(x)}%: ${m.method} ${mb(mine.bytes)} MB, FedAvg ${mb(theirs.bytes)} MB: ${r.toFixed(1)}x fewer (target ≥ 50x): ${verdict(r >= 50)}` +
            (s.publicSetBytes > 0
              ? `; counting the one-off public-set download too (${mb(s.publicSetBytes)} MB): ${(theirs.bytes / (mine.bytes + s.publicSetBytes)).toFixed(1)}x`
              : ''),
        );
      }
    }
  }
  if (sync && asyn && run.stragglers > 0) {
    const target = sync.summary!.final.mean;
    const hit = reach(asyn.timeline, target);
    const limit = sync.summary!.wallMs / 2;
    out.push(
      hit
        ? `- mutual-async reaches mutual-sync's final ${pct(target)}% after ${seconds(hit.ms)} s; sync ran ${seconds(sync.summary!.wallMs)} s (target ≤ half, ${seconds(limit)} s): ${verdict(hit.ms <= limit)}`
        : `- mutual-async never reaches mutual-sync's final ${pct(target)}% (best mean ${pct(Math.max(...asyn.timeline.map((p) => p.mean)))}%): **missed**`,
    );
  }
  return out;
}
