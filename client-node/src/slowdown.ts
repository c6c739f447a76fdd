/**
 * --slowdown S: a simulated straggler. After each local training the learner waits
 * (S - 1) x the time the training took before handing its result over, so the upload comes
 * S times later than this machine could deliver it. The wait ends early (and the round's
 * result is dropped, as for any aborted training) when the session aborts the work.
 * Also reports the real training time of each round, which the session's own trainMs
 * (measured around train(), wait included) cannot separate.
 */
import type { Learner, LearnerMetrics, TrainArgs } from '@mutua/core/session';

export interface TrainTiming {
  trainMs: number;
  waitMs: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function withSlowdown<L extends Learner>(
  learner: L,
  factor: number,
  onTrained?: (round: number, timing: TrainTiming) => void,
): L {
  if (!(factor >= 1)) throw new RangeError(`slowdown must be >= 1, got ${factor}`);
  const train = learner.train.bind(learner);
  return {
    ...learner,
    async train(args: TrainArgs): Promise<LearnerMetrics> {
      const started = performance.now();
      const metrics = await train(args);
      const trainMs = Math.round(performance.now() - started);
      const waitMs = Math.round((factor - 1) * trainMs);
      if (waitMs > 0) await sleep(waitMs, args.signal);
      onTrained?.(args.round, { trainMs, waitMs });
      return metrics;
    },
  };
}
