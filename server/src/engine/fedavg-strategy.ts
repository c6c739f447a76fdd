/**
 * FedAvg (McMahan et al. 2017) as a baseline on the same coordinator: the sample-weighted
 * mean of the participants' parameters. Lives beside MutualStrategy so a data scientist
 * can compare both on one system, measuring bytes with the same counters.
 */
import type { Consensus, Contribution, RoundContext, RoundPlan, Strategy } from './strategy.ts';

export class FedAvgStrategy implements Strategy {
  readonly name = 'fedavg';
  readonly uploads = 'weights';

  configureRound(ctx: RoundContext): RoundPlan {
    return { predictIndices: new Uint32Array(0), localEpochs: ctx.settings.localEpochs };
  }

  aggregate(
    ctx: RoundContext,
    byVersion: ReadonlyMap<number, { indices: Uint32Array; contributions: readonly Contribution[] }>,
  ): Consensus | null {
    const contributions = [...byVersion.values()].flatMap((v) => v.contributions).filter((c) => c.params);
    if (contributions.length === 0) return null;
    const count = contributions[0]!.params!.length;
    const acc = new Float64Array(count);
    let total = 0;
    for (const c of contributions) {
      if (c.params!.length !== count) continue;
      const w = Math.max(1, c.numSamples ?? 1) * c.weight;
      total += w;
      const p = c.params!;
      for (let i = 0; i < count; i++) acc[i]! += w * p[i]!;
    }
    const params = new Float32Array(count);
    for (let i = 0; i < count; i++) params[i] = acc[i]! / total;
    return { kind: 'fedavg', version: ctx.version, params };
  }
}
