/**
 * `npm run simulate -- [options]` (see --help): the federation experiment harness. Starts
 * a coordinator on an embedded database in a temp dir, uploads the split's public set,
 * then runs each method in turn (never two at once: they would share the cores and skew
 * wall times) with one mutua-client process per participant, and writes the results.
 * Ctrl-C stops every process and writes what was measured so far; a second Ctrl-C kills.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { startCoordinator } from './coordinator.ts';
import { docsTableOf } from './docs-table.ts';
import {
  applySweepPoint,
  helpText,
  OptionError,
  parseOptions,
  type SimulateOptions,
  sweepAffects,
  sweepGrid,
  variantLabel,
} from './options.ts';
import { buildReport, renderAgain, writeOutputs } from './output.ts';
import { participantPlans } from './plan.ts';
import { ProcessGroup } from './processes.ts';
import { ProgressBar } from './progress.ts';
import { buildSplit, type SplitSummary } from './public-set.ts';
import { mb, pct, seconds } from './report.ts';
import { runMethod } from './run-method.ts';
import { isLocal, type MethodName, type MethodResult } from './types.ts';

export interface SimulationOutcome {
  outDir: string;
  files: string[];
  results: MethodResult[];
  interrupted: boolean;
}

/** Runs a whole simulation; the caller owns process signals (main() below, or a test). */
export async function simulate(
  o: SimulateOptions,
  io: { command: string; signal: AbortSignal; group: ProcessGroup; stderr?: NodeJS.WritableStream },
): Promise<SimulationOutcome> {
  const started = Date.now();
  const stderr = io.stderr ?? process.stderr;
  const outDir = resolve(o.out);
  mkdirSync(outDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'mutua-simulate-'));
  const say = (m: string) => stderr.write(`${m}\n`);
  const results: MethodResult[] = [];
  let bar: ProgressBar | undefined;
  let split: SplitSummary | undefined;
  try {
    const federated = o.methods.some((m) => !isLocal(m));
    const coordinator = federated
      ? await startCoordinator(io.group, join(workDir, 'coordinator'), {
          logFile: join(workDir, 'coordinator.log'),
        })
      : undefined;
    if (coordinator) say(`simulate: coordinator at ${coordinator.url} (data in ${workDir})`);

    const grid = sweepGrid(o.sweep);
    const reports = (m: MethodName) => participantPlans(o, m).length * o.rounds;
    const perPass = o.methods.reduce((n, m) => n + reports(m), 0);
    bar = new ProgressBar(perPass * grid.length * o.seeds.length, stderr as NodeJS.WriteStream, o.progress);
    let before = 0;
    for (const seed of o.seeds) {
      if (io.signal.aborted) break;
      const so: SimulateOptions = { ...o, seed };
      bar.log(
        `simulate: building the ${o.dataset} split (seed ${seed}, alpha ${o.alpha}, ${o.clients} participants)`,
      );
      const built = await buildSplit(so);
      split ??= built;
      bar.log(
        `simulate: private samples per participant ${built.clientSizes.join(', ')}; public ${built.publicCount}, test ${built.testCount}`,
      );
      let publicSetId: string | undefined;
      if (coordinator) {
        const ps = await coordinator.admin.uploadPublicSet(
          built.publicSet,
          `simulate-${o.dataset}-seed${seed}`,
        );
        if (ps.id !== built.publicSha256)
          throw new Error(`the coordinator stored public set ${ps.id}, expected ${built.publicSha256}`);
        publicSetId = ps.id;
      }
      for (const [index, point] of grid.entries()) {
        const po = applySweepPoint(so, point);
        const variant = o.sweep.length ? variantLabel(point) : undefined;
        for (const method of o.methods) {
          if (io.signal.aborted) break;
          const label = [method, o.seeds.length > 1 ? `seed ${seed}` : '', variant ?? '']
            .filter(Boolean)
            .join(' ');
          bar.update(before, label);
          const earlier = results.find(
            (r) => r.method === method && r.seed === seed && r.variant !== undefined,
          );
          if (variant !== undefined && earlier && !sweepAffects(method, Object.keys(point))) {
            results.push({
              ...earlier,
              variant,
              overrides: point,
              notes: [
                `${method} seed ${seed}: ${variant} reuses the run at ${earlier.variant} (no swept setting applies to ${method})`,
              ],
              errors: [],
            });
            before += reports(method);
            bar.update(before, label);
            continue;
          }
          const syncWall = results.find(
            (r) => r.method === 'mutual-sync' && r.seed === seed && r.variant === variant,
          )?.summary?.wallMs;
          const result = await runMethod(method, {
            options: po,
            group: io.group,
            coordinator,
            publicSetId,
            publicSetByteLength: built.publicSet.byteLength,
            budgetMs: o.asyncBudget === 'sync' ? syncWall : o.asyncBudget,
            workDir,
            signal: io.signal,
            ...(variant === undefined ? {} : { variant, overrides: point, variantIndex: index }),
            onProgress: (n) => bar!.update(before + Math.min(n, reports(method)), label),
            log: (m) => bar!.log(m),
          });
          results.push(result);
          before += reports(method);
          bar.update(before, label);
          const s = result.summary;
          bar.log(
            result.skipped
              ? `simulate: ${label} skipped: ${result.skipped}`
              : `simulate: ${label}: final mean test accuracy ${pct(s!.final.mean)}% (min ${pct(s!.final.min)}, max ${pct(s!.final.max)})` +
                  (s!.localFinal
                    ? ` on the global model; ${pct(s!.localFinal.mean)}% after local training`
                    : '') +
                  (s!.honestFinal ? `; honest participants ${pct(s!.honestFinal.mean)}%` : '') +
                  `, ${s!.rounds} rounds, ${mb(s!.bytesUp + s!.bytesDown)} MB, ${seconds(s!.wallMs)} s` +
                  (result.errors.length ? `; ${result.errors.length} error(s), see summary.md` : ''),
          );
        }
      }
    }
    bar.stop();
    if (coordinator) await io.group.stop(coordinator.child);
  } finally {
    bar?.stop();
    await io.group.stopAll();
    const failed = results.some((r) => r.errors.length > 0);
    if (o.keepTemp || failed || io.signal.aborted) {
      // Participants' logs explain failures: keep them next to the results.
      try {
        // --keep-temp also keeps the coordinator's data dir (database and public sets), as its
        // help says: `mutua federation distill` reads a federation's consensus from it.
        cpSync(workDir, join(outDir, 'logs'), {
          recursive: true,
          filter: (src) => !/(cache|checkpoint)-p\d+$/.test(src) && (o.keepTemp || !/coordinator$/.test(src)),
        });
        say(`simulate: participant and coordinator logs kept in ${join(outDir, 'logs')}`);
      } catch {
        // Nothing to keep (e.g. the split failed before anything ran).
      }
    }
    rmSync(workDir, { recursive: true, force: true });
  }
  const optionsForRecord = { ...o, out: relative(process.cwd(), outDir) || '.' };
  const report = buildReport(
    {
      command: io.command,
      startedAt: new Date(started).toISOString(),
      wallMs: Date.now() - started,
      clientSizes: split?.clientSizes ?? [],
      publicCount: split?.publicCount ?? 0,
      publicSetBytes: split?.publicSet.byteLength ?? 0,
      testCount: split?.testCount ?? 0,
      machine: `Node ${process.version}, ${availableParallelism()} cores`,
      interrupted: io.signal.aborted,
    },
    optionsForRecord,
    results,
  );
  const files = writeOutputs(outDir, report);
  return { outDir, files, results, interrupted: io.signal.aborted };
}

async function main(): Promise<void> {
  let o: SimulateOptions | 'help';
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`simulate: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (o === 'help') {
    process.stdout.write(helpText());
    return;
  }
  if (o.table) {
    process.stdout.write(docsTableOf(o.table));
    return;
  }
  if (o.render) {
    const files = renderAgain(o.render);
    process.stderr.write(`simulate: wrote ${files.map((f) => relative(process.cwd(), f)).join(', ')}\n`);
    return;
  }
  const group = new ProcessGroup();
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(
        `\nsimulate: ${signal}: stopping every process and writing what was measured (again to kill)\n`,
      );
      abort.abort();
    } else {
      group.killAll();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => group.killAll());

  const command = `npm run simulate -- ${process.argv.slice(2).join(' ')}`;
  const outcome = await simulate(o, { command, signal: abort.signal, group });
  process.stderr.write(
    `simulate: wrote ${outcome.files.map((f) => relative(process.cwd(), f)).join(', ')}\n`,
  );
  const errors = outcome.results.some((r) => r.errors.length > 0);
  process.exitCode = outcome.interrupted ? 130 : errors ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    process.stderr.write(`simulate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
