/** The strategies a federation can run, by name (settings.strategy). */
import { FedAvgStrategy } from './fedavg-strategy.ts';
import { MutualStrategy } from './mutual-strategy.ts';
import type { StrategyName } from './settings.ts';
import type { Strategy } from './strategy.ts';

const STRATEGIES: Record<StrategyName, () => Strategy> = {
  mutual: () => new MutualStrategy(),
  fedavg: () => new FedAvgStrategy(),
};

export function strategyFor(name: StrategyName): Strategy {
  const make = STRATEGIES[name];
  if (!make)
    throw new Error(`unknown strategy ${JSON.stringify(name)}; use ${Object.keys(STRATEGIES).join(' or ')}`);
  return make();
}
