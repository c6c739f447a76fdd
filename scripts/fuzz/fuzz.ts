/**
 * `npm run fuzz`: the project's protocol fuzzer against a running coordinator. Starts the
 * built coordinator (or takes --coordinator URL --admin-token T), creates a federation,
 * runs legitimate participants, and meanwhile sends seeded mutated frames of every
 * message from unauthenticated and admitted sockets, plus floods, until --frames or
 * --seconds is reached. Samples /healthz and the coordinator's RSS throughout, prints a
 * table and exits 1 when a target is missed (report.ts).
 */

import {
  connectionFlood,
  type FuzzEnv,
  helloFlood,
  messageFlood,
  postAuthWorker,
  preAuthWorker,
} from './fuzzer.ts';
import { HealthzSampler } from './healthz.ts';
import { LegitParticipants } from './legit.ts';
import { OptionError, parseOptions, USAGE } from './options.ts';
import { type RunResult, renderReport, verdicts } from './report.ts';
import { Rng } from './rng.ts';
import { Stats } from './stats.ts';
import {
  cpuSeconds,
  createFederation,
  currentRound,
  externalTarget,
  internalRejections,
  rssBytes,
  startTarget,
  type Target,
} from './target.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(argv: string[]): Promise<number> {
  const o = parseOptions(argv);
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const rng = new Rng(o.seed);
  const target: Target = o.coordinator
    ? externalTarget(o.coordinator, o.adminToken!)
    : await startTarget([], o.nodeOptions);
  if (o.coordinatorPid) target.pid = o.coordinatorPid;
  try {
    const fed = await createFederation(target, rng, o.legit);
    const legit = new LegitParticipants(target.wsUrl, fed.classes, fed.inputShape);
    legit.start(fed.legitTokens);
    // The legitimate participants alone for a few seconds: /healthz's baseline on this machine.
    const baseline = new HealthzSampler(target.url);
    await sleep(5000);
    const healthzBaseline = await baseline.stop();
    const roundsBefore = await currentRound(target, fed.id);
    // Only the rounds that close while the fuzz runs count.
    const legitBefore = legit.summary();
    const internalBefore = await internalRejections(target);
    const stats = new Stats();
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    let stopped = false;
    const done = () => stopped || stats.frames >= o.frames || elapsed() >= o.seconds || target.exit !== null;
    const rssStart = rssBytes(target.pid);
    const cpuStart = cpuSeconds(target.pid);
    let rssPeak = rssStart;
    const sampler = new HealthzSampler(target.url);
    const env: FuzzEnv = {
      wsUrl: target.wsUrl,
      rng,
      stats,
      joinToken: fed.fuzzToken,
      inputShape: fed.inputShape,
      classes: fed.classes,
      mutations: o.mutations,
      done,
    };
    const workers = [
      ...Array.from({ length: o.preAuth }, () => preAuthWorker(env)),
      ...Array.from({ length: o.postAuth }, () => postAuthWorker(env)),
    ];
    // Floods, one at a time, every ~2,000 frames (and at least one of each kind per run).
    const floods = (async () => {
      let next = 500;
      let i = 0;
      while (!done() && o.floods) {
        if (stats.frames >= next) {
          const kind = i++ % 3;
          if (kind === 0) await connectionFlood(env, 80);
          else if (kind === 1) await helloFlood(env, 300);
          else await messageFlood(env, 400);
          next = stats.frames + 2000;
        }
        await sleep(50);
      }
    })();
    const progress = setInterval(() => {
      const r = rssBytes(target.pid);
      if (r !== null && (rssPeak === null || r > rssPeak)) rssPeak = r;
      if (!o.quiet)
        process.stderr.write(
          `fuzz: ${elapsed().toFixed(0)} s, ${stats.frames}/${o.frames} frames, ${stats.connections} connections, ` +
            `${legit.summary().roundsClosed - legitBefore.roundsClosed} legit rounds closed, RSS ${r === null ? 'n/a' : `${(r / 1048576).toFixed(0)} MiB`}\n`,
        );
    }, 2000);
    await Promise.all([...workers, floods]);
    const fuzzSeconds = elapsed();
    const cpuEnd = cpuSeconds(target.pid);
    // A moment for the last replies and for rounds to keep closing after the fuzz; RSS then
    // settles (transient frame buffers freed by the next collections): what stays is its
    // lowest reading over these seconds, the peak is reported on its own.
    stopped = true;
    clearInterval(progress);
    let rssSettled: number | null = null;
    for (let i = 0; i < 10; i++) {
      await sleep(500);
      const r = rssBytes(target.pid);
      if (r !== null) {
        rssPeak = Math.max(rssPeak ?? r, r);
        rssSettled = Math.min(rssSettled ?? r, r);
      }
    }
    const healthz = await sampler.stop();
    const crashed = target.exit ? `exited (${target.exit.code ?? target.exit.signal})` : null;
    const rssEnd = rssSettled;
    const internalAfter = crashed ? null : await internalRejections(target);
    const roundsAfter = crashed ? null : await currentRound(target, fed.id).catch(() => null);
    await legit.stop();
    const result: RunResult = {
      seconds: fuzzSeconds,
      stats,
      legit: (() => {
        const l = legit.summary();
        return {
          ...l,
          roundsClosed: l.roundsClosed - legitBefore.roundsClosed,
          acks: l.acks - legitBefore.acks,
        };
      })(),
      roundsClosedApi: roundsAfter === null ? null : roundsAfter - roundsBefore,
      crashed,
      internalMetric:
        internalAfter === null || internalBefore === null ? null : internalAfter - internalBefore,
      errorLogLines: target.errorLines.length,
      rssStart,
      rssPeak: rssPeak === null || rssEnd === null ? rssPeak : Math.max(rssPeak, rssEnd),
      rssEnd,
      healthzMs: healthz.ms,
      healthzFailures: healthz.failed,
      healthzBaselineMs: healthzBaseline.ms,
      coordinatorCpuSeconds: cpuStart === null || cpuEnd === null ? null : cpuEnd - cpuStart,
    };
    process.stdout.write(renderReport(result));
    for (const line of target.errorLines.slice(0, 5))
      process.stdout.write(`coordinator: ${line.slice(0, 2000)}\n`);
    return verdicts(result).every((v) => v.ok) ? 0 : 1;
  } finally {
    await target.stop();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof OptionError) {
      process.stderr.write(`fuzz: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`fuzz: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
