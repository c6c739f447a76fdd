/**
 * `mutua rounds FEDERATION [--follow]`: rounds (sync) or consensus versions (async) with
 * their submissions, aggregation time and the accuracy participants reported. --follow
 * polls the REST API and prints each round once it closes, until Ctrl-C.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { flag, int, positionals } from './args.ts';
import type { AdminClient, MetricRow, Round } from './client.ts';
import { type Command, type Context, commandLine } from './command.ts';
import { type Cell, json, percent, table, time } from './format.ts';

export interface RoundView extends Round {
  /** Mean validation accuracy (each participant's own held-out slice) reported for the round. */
  valAccuracy: number | null;
  /** Mean accuracy on a shared test set, when participants report one (mutua-client --eval-test). */
  testAccuracy: number | null;
}

const HEADERS = [
  'round',
  'status',
  'submissions',
  'batch',
  'agg ms',
  'closed',
  'reason',
  'val acc',
  'test acc',
];

function row(r: RoundView): Cell[] {
  return [
    r.number,
    r.status,
    r.submissions,
    r.batchSize,
    r.aggregationMs === null ? undefined : r.aggregationMs.toFixed(1),
    time(r.closedAt),
    r.closeReason,
    percent(r.valAccuracy ?? undefined),
    percent(r.testAccuracy ?? undefined),
  ];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/**
 * Per round, the mean over participants of their latest report for it. A participant's
 * metrics carry val/test accuracy as numbers; test accuracy counts only when hasTestAccuracy is
 * set (true since the REST API reports it as a boolean; 1 from coordinators before that).
 */
export function accuracyByRound(
  rows: readonly MetricRow[],
): Map<number, { val: number | null; test: number | null }> {
  const latest = new Map<string, MetricRow>();
  for (const m of rows) {
    const key = `${m.round}/${m.participantId}`;
    const prev = latest.get(key);
    if (!prev || prev.at <= m.at) latest.set(key, m);
  }
  const byRound = new Map<number, { val: number[]; test: number[] }>();
  for (const m of latest.values()) {
    const acc = byRound.get(m.round) ?? { val: [], test: [] };
    byRound.set(m.round, acc);
    const v = m.metrics.valAccuracy;
    if (typeof v === 'number') acc.val.push(v);
    const t = m.metrics.testAccuracy;
    const measured = m.metrics.hasTestAccuracy === true || m.metrics.hasTestAccuracy === 1;
    if (typeof t === 'number' && measured) acc.test.push(t);
  }
  return new Map([...byRound].map(([n, a]) => [n, { val: mean(a.val), test: mean(a.test) }]));
}

async function withAccuracy(client: AdminClient, id: string, rounds: Round[]): Promise<RoundView[]> {
  if (rounds.length === 0) return [];
  const acc = accuracyByRound(await client.metrics(id, rounds[0]!.number));
  return rounds.map((r) => ({
    ...r,
    valAccuracy: acc.get(r.number)?.val ?? null,
    testAccuracy: acc.get(r.number)?.test ?? null,
  }));
}

const rounds: Command = {
  words: ['rounds'],
  args: 'FEDERATION [--follow] [--last N]',
  summary:
    'Show the rounds (sync) or consensus versions (async) of a federation (by id or name): submissions, aggregation time, accuracy reported by participants.',
  details: `Options
  --last N          the last N rounds (default 20)
  --follow          keep going: print each round as it closes, until Ctrl-C
  --interval MS     how often --follow asks the coordinator (default 1000)`,
  options: { last: { type: 'string' }, follow: { type: 'boolean' }, interval: { type: 'string' } },
  async run(ctx, p) {
    const help = `${commandLine(this)} --help`;
    const [ref] = positionals(p, ['FEDERATION'], help);
    const last = int(p, 'last', 1, 10_000, help) ?? 20;
    const interval = int(p, 'interval', 100, 3_600_000, help) ?? 1000;
    const follow = flag(p, 'follow');
    const f = await ctx.client.resolveFederation(ref!);
    const from = Math.max(0, f.currentRound - last + 1);
    const recent = await withAccuracy(ctx.client, f.id, await ctx.client.rounds(f.id, from, last));
    if (!follow) {
      if (ctx.json) return ctx.out(json(recent));
      if (recent.length === 0)
        return ctx.note(`federation ${f.name} has no rounds yet: they start when participants join`);
      return ctx.out(table(HEADERS, recent.map(row)));
    }
    await followRounds(ctx, f.id, f.name, recent, interval);
  },
};

/**
 * Prints closed rounds as they appear. The cursor is the lowest round still open (or the
 * one after the newest seen), so each poll asks only for what can still change.
 */
async function followRounds(
  ctx: Context,
  id: string,
  name: string,
  recent: RoundView[],
  intervalMs: number,
): Promise<void> {
  // Rows come one at a time, so the widths are fixed up front: wide enough for a closing time.
  const widths = [6, 9, 11, 6, 8, 20, 9, 8, 8];
  const print = (cells: Cell[]) =>
    ctx.out(
      `${cells
        .map((c, i) => String(c === undefined || c === null || c === '' ? '-' : c).padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  const done = (r: Round) => r.status !== 'open';
  const printed = new Set<number>();
  const emit = (r: RoundView) => {
    printed.add(r.number);
    if (ctx.json) ctx.out(`${JSON.stringify(r)}\n`);
    else print(row(r));
  };
  const advance = (rows: readonly Round[], cursor: number) => {
    const open = rows.find((r) => !done(r));
    const next = open ? open.number : rows.length ? rows.at(-1)!.number + 1 : cursor;
    for (const n of printed) if (n < next) printed.delete(n);
    return next;
  };

  ctx.note(`following the rounds of federation ${name} (${id}); Ctrl-C to stop`);
  if (!ctx.json) print(HEADERS.map((h) => h.toUpperCase()));
  for (const r of recent) if (done(r)) emit(r);
  let cursor = advance(recent, 0);
  while (!ctx.signal.aborted) {
    try {
      await sleep(intervalMs, undefined, { signal: ctx.signal });
    } catch {
      return; // Ctrl-C while waiting: a clean end.
    }
    const rows = await ctx.client.rounds(id, cursor, 1000);
    const fresh = rows.filter((r) => done(r) && !printed.has(r.number));
    for (const r of await withAccuracy(ctx.client, id, fresh)) emit(r);
    cursor = advance(rows, cursor);
  }
}

export const roundsCommands: readonly Command[] = [rounds];
