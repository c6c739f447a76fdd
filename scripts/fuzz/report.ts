/** The fuzz run's result: figures, the targets they are held to, and the final table. */
import { availableParallelism, loadavg } from 'node:os';
import type { LegitSummary } from './legit.ts';
import { percentile, type Stats } from './stats.ts';

export const MIB = 1024 * 1024;
export const RSS_GROWTH_LIMIT = 100 * MIB;
export const HEALTHZ_P99_LIMIT_MS = 200;

export interface RunResult {
  seconds: number;
  stats: Stats;
  legit: LegitSummary;
  /** Rounds closed during the fuzz by the admin API (null when it could not be read). */
  roundsClosedApi: number | null;
  crashed: string | null;
  /** INTERNAL from /metrics' rejection counter (delta over the run), null when unreadable. */
  internalMetric: number | null;
  errorLogLines: number;
  rssStart: number | null;
  rssPeak: number | null;
  rssEnd: number | null;
  healthzMs: number[];
  healthzFailures: number;
  /** /healthz with only the legitimate participants running, before the fuzz: the machine's own latency. */
  healthzBaselineMs: number[];
  /** CPU the coordinator used during the fuzz (local only). */
  coordinatorCpuSeconds: number | null;
}

export interface Verdict {
  target: string;
  ok: boolean;
  figure: string;
}

const mib = (b: number | null) => (b === null ? 'n/a' : `${(b / MIB).toFixed(1)} MiB`);

export function verdicts(r: RunResult): Verdict[] {
  const internal = r.stats.internal + (r.legit.errors.get('INTERNAL') ?? 0);
  const p99 = percentile(r.healthzMs, 99);
  const growth = r.rssStart !== null && r.rssEnd !== null ? r.rssEnd - r.rssStart : null;
  return [
    { target: 'no coordinator crash', ok: r.crashed === null, figure: r.crashed ?? 'none' },
    {
      target: 'no INTERNAL error',
      ok: internal === 0 && (r.internalMetric ?? 0) === 0,
      figure: `${internal} received, ${r.internalMetric ?? 'n/a'} in /metrics`,
    },
    {
      target: 'no error-level coordinator log line',
      ok: r.errorLogLines === 0,
      figure: `${r.errorLogLines} lines`,
    },
    {
      target: 'RSS within 100 MiB of its start',
      ok: growth === null || growth < RSS_GROWTH_LIMIT,
      figure: growth === null ? 'not measured (no local pid)' : `${growth >= 0 ? '+' : ''}${mib(growth)}`,
    },
    {
      target: 'legitimate rounds keep closing',
      ok: r.legit.roundsClosed > 0,
      figure: `${r.legit.roundsClosed} rounds, ${r.legit.acks} acks`,
    },
    {
      target: `/healthz p99 under ${HEALTHZ_P99_LIMIT_MS} ms`,
      ok: r.healthzMs.length > 0 && p99 < HEALTHZ_P99_LIMIT_MS && r.healthzFailures === 0,
      figure: `p99 ${p99.toFixed(1)} ms over ${r.healthzMs.length} probes, ${r.healthzFailures} failed (p99 ${percentile(r.healthzBaselineMs, 99).toFixed(1)} ms before the fuzz)`,
    },
  ];
}

function rows(map: Map<string, number>): string {
  const entries = [...map.entries()].sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '  (none)' : entries.map(([k, v]) => `  ${k.padEnd(28)} ${v}`).join('\n');
}

export function renderReport(r: RunResult): string {
  const s = r.stats;
  const lines = [
    '',
    `fuzz: ${s.frames} frames (${mib(s.bytes)}) over ${s.connections} connections in ${r.seconds.toFixed(1)} s`,
    'frames by mutation:',
    rows(s.kinds),
    'errors received, by code:',
    rows(s.errors),
    'closes, by close code:',
    rows(s.closes),
    'upgrades refused:',
    rows(s.refused),
    `undecodable frames from the coordinator: ${s.undecodable}`,
    `coordinator error-level log lines: ${r.errorLogLines}`,
    `RSS: start ${mib(r.rssStart)}, peak ${mib(r.rssPeak)}, end ${mib(r.rssEnd)} (lowest over 5 s after the fuzz)`,
    `/healthz: p50 ${percentile(r.healthzMs, 50).toFixed(1)} ms, p99 ${percentile(r.healthzMs, 99).toFixed(1)} ms, max ${percentile(r.healthzMs, 100).toFixed(1)} ms (${r.healthzMs.length} probes, ${r.healthzFailures} failed)`,
    `/healthz before the fuzz (legitimate participants only): p50 ${percentile(r.healthzBaselineMs, 50).toFixed(1)} ms, p99 ${percentile(r.healthzBaselineMs, 99).toFixed(1)} ms (${r.healthzBaselineMs.length} probes)`,
    `coordinator CPU during the fuzz: ${r.coordinatorCpuSeconds === null ? 'n/a' : `${r.coordinatorCpuSeconds.toFixed(1)} s (${((100 * r.coordinatorCpuSeconds) / r.seconds).toFixed(0)}% of one core)`}; machine load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`,
    `legitimate participants: ${r.legit.roundsClosed} rounds closed (${r.roundsClosedApi ?? 'n/a'} by the admin API), ${r.legit.acks} acks, ${r.legit.reconnects} reconnects, errors: ${[...r.legit.errors].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    '',
    'targets:',
  ];
  for (const v of verdicts(r)) lines.push(`  ${v.ok ? 'ok  ' : 'MISS'} ${v.target.padEnd(34)} ${v.figure}`);
  return `${lines.join('\n')}\n`;
}
