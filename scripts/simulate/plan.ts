/**
 * What each method runs: which participant trains which architecture at which speed, the
 * federation settings sent to the coordinator, and the mutua-client command line of each
 * participant. Pure, so the choices are tested without starting anything.
 */
import type { SimulateOptions } from './options.ts';
import { FEDAVG_ENCODINGS, isFedAvg, type MethodName, type ParticipantPlan } from './types.ts';

type PlanOptions = Pick<SimulateOptions, 'clients' | 'models' | 'stragglers' | 'slowdown'> &
  Partial<Pick<SimulateOptions, 'attackers' | 'attack'>>;

/**
 * Architectures round-robin; the last `stragglers` participants run `slowdown` times slower
 * and the last `attackers` attack. `centralised` is one process holding every private shard
 * (the first architecture), honest.
 */
export function participantPlans(o: PlanOptions, method?: MethodName): ParticipantPlan[] {
  if (method === 'centralised') return [{ index: 0, model: o.models[0]!, slowdown: 1 }];
  return Array.from(
    { length: o.clients },
    (_, index): ParticipantPlan => ({
      index,
      model: o.models[index % o.models.length]!,
      slowdown: index >= o.clients - o.stragglers ? o.slowdown : 1,
      ...(o.attack && index >= o.clients - (o.attackers ?? 0) ? { attack: o.attack } : {}),
    }),
  );
}

/** Why a method cannot run with these participants, or undefined. */
export function skipReason(method: MethodName, plans: readonly ParticipantPlan[]): string | undefined {
  if (!isFedAvg(method)) return undefined;
  const archs = [...new Set(plans.map((p) => p.model))];
  if (archs.length > 1) {
    return `FedAvg averages weights, so every participant must train the same architecture; these train ${archs.join(', ')}`;
  }
  return undefined;
}

export const TASKS = {
  mnist: { inputShape: [28, 28, 1], numClasses: 10 },
  'fashion-mnist': { inputShape: [28, 28, 1], numClasses: 10 },
} as const;

/** The body's `settings` for POST /v1/federations. Sync rounds start once every participant is in. */
export function federationSettings(
  method: Exclude<MethodName, 'local-only' | 'centralised'>,
  o: SimulateOptions,
  plans: readonly ParticipantPlan[],
): Record<string, unknown> {
  return withOverrides(baseSettings(method, o, plans), o.settings ?? {});
}

/** `settings` with each "a.b" key of `overrides` set (a --sweep point's raw federation settings). */
export function withOverrides(
  settings: Record<string, unknown>,
  overrides: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out = structuredClone(settings);
  for (const [key, value] of Object.entries(overrides)) {
    const path = key.split('.');
    let node = out;
    for (const part of path.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[path.at(-1)!] = value;
  }
  return out;
}

function baseSettings(
  method: Exclude<MethodName, 'local-only' | 'centralised'>,
  o: SimulateOptions,
  plans: readonly ParticipantPlan[],
): Record<string, unknown> {
  const common = {
    task: { inputShape: [...TASKS[o.dataset].inputShape], numClasses: TASKS[o.dataset].numClasses },
    localEpochs: o.epochs,
    seed: o.seed,
    sync: { quorum: 0, deadlineMs: 0, minParticipants: o.clients },
    // The participants stop at different times (each after its own --max-rounds, or the
    // async budget): the default gate (2) would hold the last one forever once the others
    // had left. The first sync round waits for everyone (sync.minParticipants above); async
    // participants all start together. This is how every run before the gate was measured.
    minParticipants: 1,
  };
  if (isFedAvg(method)) {
    return {
      ...common,
      strategy: 'fedavg',
      mode: 'sync',
      modelArch: plans[0]!.model,
      weightEncoding: FEDAVG_ENCODINGS[method],
    };
  }
  return {
    ...common,
    strategy: 'mutual',
    mode: method === 'mutual-sync' ? 'sync' : 'async',
    temperature: o.temperature,
    lambda: o.lambda,
    aggregation: o.aggregation,
    batchSize: Math.min(o.publicBatch, o.publicSize),
    async: { bufferK: o.bufferK, stalenessExponent: o.stalenessExponent, maxStaleness: o.maxStaleness },
  };
}

export interface ClientPaths {
  metricsOut: string;
  cacheDir: string;
  checkpointDir: string;
}

/**
 * mutua-client's --limit keeps the first N samples of the source before splitting, so a cap
 * of about L private samples per participant is a source of clients*L + public + test samples.
 */
export function sourceLimit(o: Pick<SimulateOptions, 'limit' | 'clients' | 'publicSize' | 'testSize'>) {
  return o.limit === undefined ? undefined : o.limit * o.clients + o.publicSize + o.testSize;
}

/** The data flags: the same federatedSplit in every process and in the harness's public set. */
export function dataArgs(o: SimulateOptions, plan: ParticipantPlan, all = false): string[] {
  return [
    '--data',
    `builtin:${o.dataset}`,
    '--shard',
    `${all ? 'all' : plan.index}/${o.clients}`,
    '--alpha',
    String(o.alpha),
    '--seed',
    String(o.seed),
    '--public-size',
    String(o.publicSize),
    '--test-size',
    String(o.testSize),
    ...(o.limit === undefined ? [] : ['--limit', String(sourceLimit(o))]),
  ];
}

/** mutua-client arguments for one participant of one method. */
export function clientArgs(
  method: MethodName,
  o: SimulateOptions,
  plan: ParticipantPlan,
  paths: ClientPaths,
  federation?: { coordinator: string; token: string },
): string[] {
  const common = [
    ...dataArgs(o, plan, method === 'centralised'),
    '--eval-test',
    '--model',
    plan.model,
    '--epochs',
    String(o.epochs),
    '--batch-size',
    String(o.batchSize),
    '--slowdown',
    String(plan.slowdown),
    '--metrics-out',
    paths.metricsOut,
    '--checkpoint-dir',
    paths.checkpointDir,
    '--quiet',
  ];
  if (method === 'local-only' || method === 'centralised') {
    return ['--local-only', '--rounds', String(o.rounds), ...common];
  }
  if (!federation) throw new Error(`${method} needs a coordinator and a join token`);
  // FedAvg uploads weights: the prediction attacks do not apply (mutua-client refuses them).
  const attack = plan.attack && !isFedAvg(method) ? ['--attack', plan.attack] : [];
  // Under an async time budget nobody leaves early: the harness stops everyone at the end.
  const open = method === 'mutual-async' && o.asyncBudget !== undefined;
  return [
    '--coordinator',
    federation.coordinator,
    '--token',
    federation.token,
    ...(open ? [] : ['--max-rounds', String(o.rounds)]),
    '--cache-dir',
    paths.cacheDir,
    ...attack,
    ...common,
  ];
}
