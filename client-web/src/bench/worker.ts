/** The bench page's worker: the join page's backend choice once, then measure.ts per request. */
import { describeFailure } from '@mutua/core/backend';
import type { ModelArch } from '@mutua/core/models';
import { chooseBackend } from '../join/backend.ts';
import type { BackendReport } from '../join/messages.ts';
import { type BenchResult, measureTraining } from './measure.ts';

export interface BenchRequest {
  id: number;
  models: ModelArch[];
  seconds: number;
  origin: string;
}

export type BenchReply =
  | { id: number; type: 'result'; backend: BackendReport; results: BenchResult[] }
  | { id: number; type: 'error'; message: string };

const scope = self as unknown as {
  postMessage(message: BenchReply): void;
  onmessage: ((event: MessageEvent<BenchRequest>) => void) | null;
};

let backend: Promise<BackendReport> | null = null;

scope.onmessage = async (event) => {
  const { id, models, seconds, origin } = event.data;
  try {
    backend ??= chooseBackend(origin);
    const chosen = await backend;
    const results: BenchResult[] = [];
    for (const arch of models) results.push(await measureTraining(arch, seconds));
    scope.postMessage({ id, type: 'result', backend: chosen, results });
  } catch (err) {
    scope.postMessage({ id, type: 'error', message: describeFailure(err) });
  }
};
