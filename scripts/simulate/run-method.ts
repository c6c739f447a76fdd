/**
 * Runs one method end to end: (federated methods) a federation on the coordinator and one
 * join token per participant; then one mutua-client process per participant, whose
 * metrics-out lines are read as they are written while the coordinator's traffic counters
 * are sampled; and finally the series and summary the report is made from.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  globalRounds,
  perRound,
  stats,
  summarize,
  timeline,
  toGlobalRecords,
  toParticipantRecords,
} from './aggregate.ts';
import { type Coordinator, cleanEnv, type ParticipantTrust } from './coordinator.ts';
import { JsonlTail } from './metrics-tail.ts';
import type { SimulateOptions } from './options.ts';
import { clientArgs, federationSettings, participantPlans, skipReason } from './plan.ts';
import type { Child, ProcessGroup } from './processes.ts';
import { stalledAsync } from './stall.ts';
import {
  FEDAVG_ENCODINGS,
  isFedAvg,
  isLocal,
  type MethodName,
  type MethodResult,
  type TrafficSample,
} from './types.ts';

export const CLIENT_BIN = fileURLToPath(new URL('../../client-node/bin/mutua-client.js', import.meta.url));

export interface MethodContext {
  options: SimulateOptions;
  group: ProcessGroup;
  /** Needed by every method but local-only. */
  coordinator?: Coordinator;
  publicSetId?: string;
  /** Size of the public-set file each participant downloads once over HTTP. */
  publicSetByteLength: number;
  /** Where each method's participant logs, metrics and checkpoints go. */
  workDir: string;
  /** Aborted on Ctrl-C: the method stops its participants and returns what it has. */
  signal: AbortSignal;
  /** mutual-async under --async-budget: stop every participant this long after the start. */
  budgetMs?: number;
  /** --sweep: the grid point's label, its settings and its index (for directory names). */
  variant?: string;
  overrides?: Record<string, string | number>;
  variantIndex?: number;
  /** Reports received so far in this method (for the progress bar). */
  onProgress?: (received: number) => void;
  log?: (message: string) => void;
  pollMs?: number;
}

/** Resolves after `ms`, or at once when `signal` aborts (without leaving a listener behind). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The coordinator's public-set byte counter, or null (logged) when /metrics cannot be read. */
async function publicSetBytesSent(
  coordinator: NonNullable<MethodContext['coordinator']>,
  ctx: MethodContext,
  method: MethodName,
): Promise<number | null> {
  try {
    return await coordinator.admin.publicSetBytesSent();
  } catch (err) {
    ctx.log?.(
      `${method}: /metrics unreadable (${err instanceof Error ? err.message : String(err)}); the public set counts as its uncompressed size`,
    );
    return null;
  }
}

export async function runMethod(method: MethodName, ctx: MethodContext): Promise<MethodResult> {
  const o = ctx.options;
  const plans = participantPlans(o, method);
  const result: MethodResult = {
    method,
    seed: o.seed,
    ...(ctx.variant === undefined ? {} : { variant: ctx.variant, overrides: ctx.overrides }),
    encoding: isFedAvg(method) ? FEDAVG_ENCODINGS[method] : isLocal(method) ? 'none' : undefined,
    participants: plans,
    records: [],
    traffic: [],
    rounds: [],
    timeline: [],
    errors: [],
    notes: [],
  };
  const skip = skipReason(method, plans);
  if (skip) return { ...result, skipped: skip };
  if (method === 'mutual-async' && o.asyncBudget !== undefined && !(ctx.budgetMs! > 0)) {
    return { ...result, skipped: '--async-budget sync, but mutual-sync has no wall time in this run' };
  }

  const dir = join(
    ctx.workDir,
    `${method}-seed${o.seed}${ctx.variant === undefined ? '' : `-${ctx.variantIndex}`}`,
  );
  mkdirSync(dir, { recursive: true });
  const coordinator = ctx.coordinator;
  let federationId: string | undefined;
  const tokens: string[] = [];
  if (!isLocal(method)) {
    if (!coordinator || !ctx.publicSetId)
      throw new Error(`${method} needs the coordinator and the public set`);
    const settings = federationSettings(
      method as Exclude<MethodName, 'local-only' | 'centralised'>,
      o,
      plans,
    );
    const f = await coordinator.admin.createFederation({
      name: `simulate ${method} ${o.dataset} N=${o.clients} alpha=${o.alpha} seed=${o.seed}${ctx.variant ? ` ${ctx.variant}` : ''}`,
      publicSetId: ctx.publicSetId,
      settings,
    });
    federationId = f.id;
    result.federationId = f.id;
    result.settings = f.settings;
    if (!isFedAvg(method)) {
      // Participants offer every prediction encoding: they upload the federation's first.
      result.encoding = String((f.settings.encodings as string[] | undefined)?.[0] ?? 'float32');
    }
    for (const p of plans) tokens.push(await coordinator.admin.createToken(f.id, `participant ${p.index}`));
  }

  // The public set's downloads, as the coordinator counts them (brotli or gzip on the wire).
  const sentBefore = federationId ? await publicSetBytesSent(coordinator!, ctx, method) : null;
  const tails = plans.map((p) => new JsonlTail(join(dir, `p${p.index}.jsonl`)));
  const start = Date.now();
  const children: Child[] = plans.map((p) => {
    const args = clientArgs(
      method,
      o,
      p,
      {
        metricsOut: tails[p.index]!.path,
        cacheDir: join(dir, `cache-p${p.index}`),
        checkpointDir: join(dir, `checkpoint-p${p.index}`),
      },
      federationId ? { coordinator: coordinator!.wsUrl, token: tokens[p.index]! } : undefined,
    );
    return ctx.group.spawn(
      `${method} participant ${p.index}`,
      process.execPath,
      [CLIENT_BIN, ...args, '--name', `p${p.index}`],
      {
        cwd: dir,
        env: cleanEnv(),
        logFile: join(dir, `p${p.index}.log`),
      },
    );
  });
  const exits = children.map((c) => c.exited);
  let running = children.length;
  const alive = children.map(() => true);
  exits.forEach((e, i) => {
    void e.then(() => {
      alive[i] = false;
      running--;
    });
  });

  const sampleTraffic = async () => {
    if (!federationId) return;
    try {
      const t = await coordinator!.admin.traffic(federationId);
      result.traffic.push({ ms: Date.now() - start, bytesUp: t.bytesIn, bytesDown: t.bytesOut });
    } catch (err) {
      // One failed sample is a gap in the curve, not a failed run.
      ctx.log?.(`${method}: traffic sample failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  // The trust weights live in the coordinator's memory while the federation runs: the last
  // listing taken while participants were still running is what the run reports.
  let trustSeen: ParticipantTrust[] | null = null;
  const sampleTrust = async () => {
    if (!federationId || !method.startsWith('mutual') || running === 0) return;
    try {
      trustSeen = await coordinator!.admin.participants(federationId);
    } catch (err) {
      ctx.log?.(`${method}: participants sample failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const pollTails = () => {
    for (const tail of tails) tail.poll();
    ctx.onProgress?.(tails.reduce((a, t) => a + t.records.length, 0));
  };

  const deadline = o.timeoutMinutes > 0 ? start + o.timeoutMinutes * 60_000 : Number.POSITIVE_INFINITY;
  const budgetEnd =
    method === 'mutual-async' && ctx.budgetMs !== undefined ? start + ctx.budgetMs : Number.POSITIVE_INFINITY;
  const pollMs = ctx.pollMs ?? 1000;
  let stalledSince: number | undefined;
  const checkStall = async () => {
    if (method !== 'mutual-async' || running === children.length || running === 0) return;
    let version: number;
    try {
      version = (await coordinator!.admin.federation(federationId!)).currentRound;
    } catch {
      return;
    }
    const stuck = stalledAsync(
      tails.map((t, i) => ({ running: alive[i]!, lastRound: t.records.at(-1)?.round })),
      version,
    );
    if (!stuck) {
      stalledSince = undefined;
      return;
    }
    stalledSince ??= Date.now();
    // A few seconds of the same state rule out a version being published right now.
    if (Date.now() - stalledSince < 5000) return;
    const counts = stuck.map((i) => `p${i} after ${tails[i]!.records.length}`).join(', ');
    result.notes.push(
      `${method}: stopped ${counts} of ${o.rounds} tasks: the others had left, and every participant still running had contributed to the newest version (${version}), so the coordinator would never publish another (it waits for ${o.bufferK} new contributions)`,
    );
    await Promise.all(stuck.map((i) => ctx.group.stop(children[i]!)));
  };
  while (running > 0 && !ctx.signal.aborted && Date.now() < deadline && Date.now() < budgetEnd) {
    await sleep(pollMs, ctx.signal);
    pollTails();
    await sampleTraffic();
    await sampleTrust();
    await checkStall();
  }
  if (running > 0 && Date.now() >= budgetEnd && !ctx.signal.aborted) {
    result.notes.push(
      `${method}: ran with no task cap for its time budget of ${Math.round(ctx.budgetMs! / 1000)} s, then every participant was stopped (SIGTERM: it finishes or drops its current step and leaves)`,
    );
    await Promise.all(children.map((c) => ctx.group.stop(c)));
  }
  if (running > 0) {
    const why = ctx.signal.aborted ? 'interrupted' : `timed out after ${o.timeoutMinutes} min`;
    result.errors.push(`${method}: ${why}; ${running} participant(s) still running were stopped`);
    await Promise.all(children.map((c) => ctx.group.stop(c)));
  }
  const done = await Promise.all(exits);
  done.forEach((e, i) => {
    if (e.code !== 0 && !ctx.signal.aborted) {
      const tail = children[i]!.tail().trim().split('\n').slice(-5).join('\n    ');
      result.errors.push(`${method} participant ${i} exited with ${e.code ?? e.signal}:\n    ${tail}`);
    }
  });
  for (const tail of tails) {
    tail.finish();
    result.errors.push(...tail.errors);
  }
  ctx.onProgress?.(tails.reduce((a, t) => a + t.records.length, 0));
  await sampleTraffic();

  const sentAfter = sentBefore === null ? null : await publicSetBytesSent(coordinator!, ctx, method);
  const publicSetOnWire = sentBefore !== null && sentAfter !== null && method.startsWith('mutual');
  if (publicSetOnWire) {
    result.notes.push(
      `${method}: the coordinator sent ${sentAfter! - sentBefore!} bytes of public set for ${plans.length} participants' downloads (uncompressed: ${ctx.publicSetByteLength} bytes each)`,
    );
  }

  let versions = 0;
  if (federationId) {
    try {
      const rows = await coordinator!.admin.rounds(federationId);
      versions = rows.filter((r) => r.status === 'closed').length;
    } catch (err) {
      result.errors.push(
        `${method}: could not read rounds: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  result.records = tails.flatMap((tail, p) => toParticipantRecords(p, tail.records, start));
  if (trustSeen) noteFlagged(result, trustSeen);
  result.traffic = monotone(result.traffic);
  result.rounds = perRound(result.records, result.traffic);
  result.timeline = timeline(result.records, result.traffic, plans.length);
  result.summary = summarize({
    records: result.records,
    traffic: result.traffic,
    participants: plans.length,
    versions,
    attackers: plans.filter((p) => p.attack).map((p) => p.index),
    // What mutual distillation needs once per participant. (FedAvg participants fetch it
    // too, as every Welcome names it, but the algorithm has no use for it: not counted.)
    publicSetBytes: !method.startsWith('mutual')
      ? 0
      : publicSetOnWire
        ? sentAfter! - sentBefore!
        : ctx.publicSetByteLength * plans.length,
    publicSetOnWire,
  });
  if (isFedAvg(method)) scoreOnGlobalModel(result, tails, start);
  return result;
}

/** result.flagged and a note from the coordinator's participant listing (named p<index>). */
function noteFlagged(result: MethodResult, listed: readonly ParticipantTrust[]): void {
  const scored = listed.filter((p) => p.trust !== null);
  if (scored.length === 0) return;
  result.flagged = listed
    .filter((p) => p.flagged && /^p\d+$/.test(p.name))
    .map((p) => ({ participant: Number(p.name.slice(1)), trust: p.trust!, reason: p.flagReason }))
    .sort((a, b) => a.participant - b.participant);
  const who = result.flagged.map(
    (f) => `p${f.participant} (${f.reason ?? 'flagged'}, trust ${f.trust.toFixed(2)})`,
  );
  result.notes.push(
    `${result.method}${result.variant ? ` ${result.variant}` : ''}: flagged by the coordinator at the end: ${who.length ? who.join(', ') : 'nobody'} (of ${scored.length} scored)`,
  );
}

/**
 * FedAvg is the federation's global model: its rounds, timeline and final accuracy become
 * the global scorings (the aggregate of round r, scored as it reached the participants);
 * each participant's model after local training stays as `localRounds` / `summary.localFinal`.
 */
function scoreOnGlobalModel(result: MethodResult, tails: readonly JsonlTail[], start: number): void {
  const globals = tails.flatMap((tail, p) => toGlobalRecords(p, tail.globals, start));
  const summary = result.summary!;
  if (globals.length === 0) {
    result.notes.push(
      `${result.method}: no participant scored a global model (too few rounds?): its accuracy is each participant's model after local training`,
    );
    return;
  }
  const rounds = globalRounds(globals, result.traffic);
  result.globals = globals;
  result.globalAccuracy = true;
  result.localRounds = result.rounds;
  result.rounds = rounds;
  result.timeline = rounds.map(({ round: _, ...point }) => point);
  const last = rounds.at(-1)!;
  summary.localFinal = summary.final;
  const lastGlobals = globals.filter((g) => g.globalRound === last.round);
  summary.final = stats(lastGlobals.map((g) => g.testAccuracy));
  if (summary.honestFinal) {
    const attackers = new Set(result.participants.filter((p) => p.attack).map((p) => p.index));
    summary.honestFinal = stats(lastGlobals.filter((g) => !attackers.has(g.p)).map((g) => g.testAccuracy));
  }
  summary.wallMs = Math.max(summary.wallMs, last.ms);
  if (last.round < summary.rounds) {
    result.notes.push(
      `${result.method} seed ${result.seed}: the newest global model scored is round ${last.round}'s, of ${summary.rounds}`,
    );
  }
}

/** Samples in time order (concurrent polls can answer out of order; the counters never go down). */
function monotone(samples: TrafficSample[]): TrafficSample[] {
  const sorted = [...samples].sort((a, b) => a.ms - b.ms);
  let up = 0;
  let down = 0;
  return sorted.map((s) => {
    up = Math.max(up, s.bytesUp);
    down = Math.max(down, s.bytesDown);
    return { ms: s.ms, bytesUp: up, bytesDown: down };
  });
}
