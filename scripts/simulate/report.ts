/**
 * The comparison table (Markdown) and the CSV files of a simulation. Pure: results in,
 * strings out. MB are 10^6 bytes; accuracies are shown in percent.
 */
import { reach } from './aggregate.ts';
import { summarizeVariant } from './summary.ts';
import { isFedAvg, isLocal, type MethodResult } from './types.ts';

const FEDERATED = new Set(['fedavg', 'fedavg-f16', 'fedavg-u8', 'mutual-sync', 'mutual-async']);

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

export interface TableOptions {
  /** Accuracy (0..1) at which "MB to X%" and "time to X%" are read; null leaves them out. */
  target: number | null;
}

const cell = (v: number | null | undefined, f: (v: number) => string): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : f(v);
const times = (r: number | null): string =>
  r === null ? '—' : r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(1)}x`;
const roundNumber = (r: number) => (Number.isInteger(r) ? String(r) : r.toFixed(1));

/**
 * One row per method (over its seeds); skipped methods are listed below the table with the
 * reason, then which FedAvg encoding the ratios use. Results of one sweep point.
 */
export function markdownTable(results: readonly MethodResult[], options: TableOptions): string {
  const { target } = options;
  const v = summarizeVariant(results, target);
  const t = target === null ? '' : pct(target);
  const seeds = Math.max(1, ...v.methods.map((m) => m.seeds.length));
  const fedLocal = v.methods.some((m) => m.fedavgLocalAccuracy);
  const honest = v.methods.some((m) => m.honestAccuracy);
  const header = [
    'method',
    'final mean acc %',
    ...(honest ? ['honest mean acc %'] : []),
    ...(seeds > 1 ? [`range over ${seeds} seeds %`] : []),
    'min %',
    'max %',
    ...(fedLocal ? ['FedAvg local after training %'] : []),
    'rounds',
    'encoding',
    'MB up+down',
    'MB + public set',
    ...(target === null
      ? []
      : [`round to ${t}%`, `MB to ${t}%`, `MB to ${t}% (+ public set)`, `time to ${t}% (s)`]),
    'wall time (s)',
    'FedAvg bytes ÷ these (total)',
    'FedAvg bytes ÷ these (+ public set)',
    ...(target === null
      ? []
      : [`FedAvg bytes ÷ these (to ${t}%)`, `FedAvg bytes ÷ these (to ${t}%, + public set)`]),
    'public set MB (HTTP, once)',
  ];
  const rows = v.methods.map((m) => {
    const local = isLocal(m.method);
    const f = m.finalAccuracy;
    const hit = m.bytesToTarget;
    const partial =
      hit && hit.reachedSeeds > 0 && hit.reachedSeeds < hit.seeds
        ? ` (${hit.reachedSeeds}/${hit.seeds} seeds)`
        : '';
    const reached = (x: number | null | undefined, fmt: (v: number) => string) =>
      !hit || hit.reachedSeeds === 0 ? 'not reached' : `${cell(x, fmt)}${partial}`;
    const rounds = m.method === 'mutual-async' ? `${m.rounds} (${m.versions} versions)` : String(m.rounds);
    const r = m.ratioVsFedavg;
    return [
      m.method,
      pct(f.mean),
      ...(honest ? [m.honestAccuracy ? pct(m.honestAccuracy.mean) : '—'] : []),
      ...(seeds > 1 ? [`${pct(f.seedMin)}–${pct(f.seedMax)}`] : []),
      pct(f.min),
      pct(f.max),
      ...(fedLocal ? [m.fedavgLocalAccuracy ? pct(m.fedavgLocalAccuracy.mean) : '—'] : []),
      rounds,
      m.encoding,
      local ? '0' : mb(m.bytesProtocol),
      local ? '0' : mb(m.bytesWithPublicSet),
      ...(target === null
        ? []
        : [
            reached(hit?.round, roundNumber),
            reached(hit?.protocol, mb),
            reached(hit?.withPublicSet, mb),
            reached(hit?.ms, seconds),
          ]),
      seconds(m.wallMs),
      local ? '—' : times(r.protocol),
      local ? '—' : times(r.withPublicSet),
      ...(target === null
        ? []
        : [local ? '—' : times(r.toTargetProtocol), local ? '—' : times(r.toTargetWithPublicSet)]),
      m.publicSetBytes > 0 ? mb(m.publicSetBytes) : '0',
    ];
  });
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
  ];
  const skipped = new Set<string>();
  for (const r of results) {
    if (r.skipped && !skipped.has(r.method)) {
      skipped.add(r.method);
      lines.push('', `${r.method}: not run — ${r.skipped}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What a reader of the table must know about its FedAvg rows (Markdown lines). */
export function tableNotes(results: readonly MethodResult[]): string[] {
  const v = summarizeVariant(results);
  const out: string[] = [];
  if (v.fedavgReference) {
    out.push(`- FedAvg ratios use ${v.fedavgReference.method}: ${v.fedavgReference.reason}.`);
  }
  const fed = results.find((r) => isFedAvg(r.method) && !r.skipped && r.summary);
  if (fed) {
    out.push(
      fed.globalAccuracy
        ? '- FedAvg\'s accuracy is its global model (the aggregate of each round, scored on the test set as the participants load it, before any local training); "FedAvg local after training" is the participants\' own models after their local epochs.'
        : "- FedAvg's accuracy here is each participant's model after local training (this run predates scoring its global model).",
    );
  }
  return out;
}

/** RFC 4180: quote fields holding a comma, quote or newline. */
export function csv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const field = (v: string | number) => {
    const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[header, ...rows].map((row) => row.map(field).join(',')).join('\n')}\n`;
}

/**
 * Trailing columns naming each row's seed and sweep point, in runs that have them (runs
 * from before --seeds have neither).
 */
function runColumns(results: readonly MethodResult[]) {
  const seed = results.some((r) => r.seed !== undefined);
  const variant = results.some((r) => r.variant !== undefined);
  return {
    header: [...(seed ? ['seed'] : []), ...(variant ? ['variant'] : [])],
    cells: (r: MethodResult) => [...(seed ? [r.seed ?? ''] : []), ...(variant ? [r.variant ?? ''] : [])],
  };
}

/** Per method and round: accuracy over the participants' k-th reports, bytes and time then. */
export function roundsCsv(results: readonly MethodResult[]): string {
  const run = runColumns(results);
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
      ...run.header,
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
        ...run.cells(r),
      ]),
    ),
  );
}

/** Per method, after every report: accuracy over the participants' latest reports. */
export function timelineCsv(results: readonly MethodResult[]): string {
  const run = runColumns(results);
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
      ...run.header,
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
        ...run.cells(r),
      ]),
    ),
  );
}

/** Every participant's every report, for analyses the summary does not do. */
export function recordsCsv(results: readonly MethodResult[]): string {
  const run = runColumns(results);
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
      ...run.header,
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
          ...run.cells(r),
        ];
      }),
    ),
  );
}

function round4(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : Number.NaN;
}

/**
 * The issue's claims, checked on these results (when the methods they compare ran):
 * mutual distillation vs local-only (+10 points), vs FedAvg's global model (within 1 point
 * on MNIST, 2 elsewhere; 50x fewer bytes to reach the lower of the two final accuracies,
 * also counted with the public-set download), and with stragglers async vs sync (sync's
 * final accuracy in at most half of sync's wall time; checked only in runs with
 * stragglers, the setting the target is about). With several seeds, every figure is the
 * mean over seeds. Lines of Markdown.
 */
export function claimChecks(
  results: readonly MethodResult[],
  run: { stragglers: number; dataset?: string },
): string[] {
  const v = summarizeVariant(results);
  const get = (m: string) => v.methods.find((x) => x.method === m);
  const local = get('local-only');
  const ref = v.fedavgReference ? get(v.fedavgReference.method) : undefined;
  const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');
  const points = (d: number) => `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)}`;
  const allowed = run.dataset === 'mnist' ? 0.01 : 0.02;
  const refRuns = results.filter((r) => r.method === ref?.method && !r.skipped);
  const what = ref
    ? refRuns.every((r) => r.globalAccuracy)
      ? ` (FedAvg: ${ref.method}, its global model, ${ref.encoding} weights)`
      : ` (FedAvg: ${ref.method}, scored after local training: an older run)`
    : '';
  const out: string[] = [];
  for (const m of [get('mutual-sync'), get('mutual-async')]) {
    if (!m) continue;
    if (local) {
      const d = m.finalAccuracy.mean - local.finalAccuracy.mean;
      out.push(
        `- ${m.method} vs local-only: ${points(d)} points mean test accuracy (target ≥ +10): ${verdict(d >= 0.1)}`,
      );
    }
    if (ref) {
      const gap = ref.finalAccuracy.mean - m.finalAccuracy.mean;
      out.push(
        `- ${m.method} vs FedAvg final accuracy: ${pct(m.finalAccuracy.mean)}% vs ${pct(ref.finalAccuracy.mean)}%, ${(Math.abs(gap) * 100).toFixed(1)} points ${gap > 0 ? 'below' : 'above'} (target: at most ${allowed * 100} below): ${verdict(gap <= allowed + 1e-9)}${what}`,
      );
      const x = m.vsFedavg;
      if (x && x.bytesProtocol !== null && x.fedavgBytesProtocol !== null && x.bytesProtocol > 0) {
        const r = x.ratioProtocol!;
        out.push(
          `- bytes to reach ${pct(x.targetAccuracy)}% (the lower of ${m.method}'s and FedAvg's final means): ${m.method} ${mb(x.bytesProtocol)} MB, FedAvg ${mb(x.fedavgBytesProtocol)} MB: ${r.toFixed(1)}x fewer (target ≥ 50x): ${verdict(r >= 50)}` +
            (m.publicSetBytes > 0 && x.ratioWithPublicSet !== null
              ? `; counting the one-off public-set download too (${mb(m.publicSetBytes)} MB): ${x.ratioWithPublicSet.toFixed(1)}x`
              : ''),
        );
      }
    }
  }
  const sync = results.filter((r) => r.method === 'mutual-sync' && !r.skipped && r.summary);
  const asyn = results.filter((r) => r.method === 'mutual-async' && !r.skipped && r.summary);
  if (sync.length && asyn.length && run.stragglers > 0) {
    const target = get('mutual-sync')!.finalAccuracy.mean;
    const syncWall = get('mutual-sync')!.wallMs;
    const hits = asyn.map((r) => reach(r.timeline, target));
    const limit = syncWall / 2;
    if (hits.every((h) => h !== null)) {
      const ms = hits.reduce((a, h) => a + h!.ms, 0) / hits.length;
      out.push(
        `- mutual-async reaches mutual-sync's final ${pct(target)}% after ${seconds(ms)} s; sync ran ${seconds(syncWall)} s (target ≤ half, ${seconds(limit)} s): ${verdict(ms <= limit)}`,
      );
    } else {
      const best = Math.max(...asyn.flatMap((r) => r.timeline.map((p) => p.mean)));
      out.push(
        `- mutual-async never reaches mutual-sync's final ${pct(target)}% (best mean ${pct(best)}%${asyn.length > 1 ? `, in ${hits.filter((h) => h === null).length} of ${asyn.length} seeds` : ''}): **missed**`,
      );
    }
  }
  return out;
}
