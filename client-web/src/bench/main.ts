/**
 * bench.html: how fast this browser trains, in the same worker setup as the join page.
 * Query: ?models=cnn-small,mlp&seconds=3 runs once on load and shows a table; the page
 * also exposes window.mutuaBench.run(models, seconds), which bench/bench-web.ts calls
 * from headless Chromium (several times, alternating with the Node measurement).
 */
import { isModelArch, type ModelArch } from '@mutua/core/models';
import type { BackendReport } from '../join/messages.ts';
import { byId, h } from '../shared/dom.ts';
import { BENCH_BATCH, type BenchResult } from './measure.ts';
import type { BenchReply, BenchRequest } from './worker.ts';

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'mutua-bench' });
const pending = new Map<number, (reply: BenchReply) => void>();
let nextId = 1;
worker.onmessage = (e: MessageEvent<BenchReply>) => {
  pending.get(e.data.id)?.(e.data);
  pending.delete(e.data.id);
};

function run(
  models: ModelArch[],
  seconds: number,
): Promise<{ backend: BackendReport; results: BenchResult[] }> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, (reply) => {
      if (reply.type === 'error') reject(new Error(reply.message));
      else resolve({ backend: reply.backend, results: reply.results });
    });
    const request: BenchRequest = { id, models, seconds, origin: location.origin };
    worker.postMessage(request);
  });
}
(window as unknown as { mutuaBench: { run: typeof run } }).mutuaBench = { run };

const params = new URLSearchParams(location.search);
const models = (params.get('models') ?? 'cnn-small,mlp').split(',').filter(isModelArch) as ModelArch[];
const seconds = Number(params.get('seconds') ?? 3) || 3;
const body = h('tbody', {});
byId('app').replaceChildren(
  h(
    'main',
    {},
    h('h1', {}, 'Mutua · browser training benchmark'),
    h(
      'p',
      { class: 'muted' },
      `Mutual step, private batch ${BENCH_BATCH} + ${BENCH_BATCH} public rows, Adam; ${seconds} s per model after a warm-up epoch.`,
    ),
    h('p', { id: 'bench-backend' }, 'Measuring…'),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Model'), h('th', {}, 'Parameters'), h('th', {}, 'Samples/s'))),
      body,
    ),
  ),
);
if (!params.has('manual')) {
  run(models, seconds).then(
    ({ backend, results }) => {
      byId('bench-backend').textContent =
        `Backend: ${backend.name}${backend.reason ? ` (${backend.reason})` : ''}`;
      for (const r of results) {
        body.append(
          h(
            'tr',
            {},
            h('td', {}, r.model),
            h('td', {}, r.params.toLocaleString()),
            h('td', {}, r.samplesPerSecond.toFixed(1)),
          ),
        );
      }
    },
    (err: unknown) => {
      byId('bench-backend').textContent = `Failed: ${err instanceof Error ? err.message : String(err)}`;
    },
  );
}
