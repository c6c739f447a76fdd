/**
 * The browser participant's local training throughput next to the Node client's, on this
 * machine:
 *
 *   npm run bench:web -- [--seconds 3] [--repeats 3] [--models cnn-small,mlp] [--json]
 *
 * Browser: client-web's bench.html in Debian's headless Chromium (playwright-core), in a
 * Web Worker with the join page's backend choice (here: WebAssembly, since headless
 * Chromium's WebGL is SwiftShader). Node: the same measurement (src/bench/measure.ts:
 * core's Trainer, the mutual step, batch 32) on core's wasm backend with its kernels.
 * The two sides run alternately, never at the same time, `--repeats` times each; each
 * side's best run counts (a busy machine only ever makes a run slower).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { useWasmBackend } from '@mutua/core/backend';
import { isModelArch, type ModelArch } from '@mutua/core/models';
import { BENCH_BATCH, type BenchResult, measureTraining } from '../src/bench/measure.ts';
import type { BackendReport } from '../src/join/messages.ts';
import { chromiumMissing, DIST, ensureBuilt, launchChromium } from '../test/harness.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    repeats: { type: 'string', default: '3' },
    models: { type: 'string', default: 'cnn-small,mlp' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${values.seconds}`);
const repeats = Number(values.repeats);
if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error(`--repeats must be a positive integer`);
const models = values.models.split(',').filter(Boolean);
for (const m of models) if (!isModelArch(m)) throw new Error(`unknown model ${m}`);
const log = (line: string) => (values.json ? console.error(line) : console.log(line));

const missing = chromiumMissing();
if (missing) throw new Error(missing);

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
};

/** dist/ over plain HTTP, cross-origin isolated like the coordinator serves it. */
function serveDist(): Promise<{ server: Server; url: string }> {
  const root = resolve(DIST);
  const server = createServer((req, res) => {
    const path = resolve(root, `.${decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)}`);
    if (!path.startsWith(root + sep) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    createReadStream(path).pipe(res);
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      done({ server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
    }),
  );
}

type Side = {
  backend: string;
  reason?: string;
  simd?: boolean;
  threads?: number;
  best: Map<string, BenchResult>;
};

function keepBest(side: Side, results: BenchResult[]): void {
  for (const r of results) {
    const had = side.best.get(r.model);
    if (!had || r.samplesPerSecond > had.samplesPerSecond) side.best.set(r.model, r);
  }
}

await ensureBuilt();
const { server, url } = await serveDist();
const chromium = await launchChromium();
const browser: Side = { backend: '', best: new Map() };
const node: Side = { backend: '', best: new Map() };
try {
  const page = await chromium.context.newPage();
  await page.goto(`${url}/bench.html?manual`);
  await page.waitForFunction(() => 'mutuaBench' in window);
  const nodeBackend = await useWasmBackend();
  Object.assign(node, { backend: nodeBackend.name, simd: nodeBackend.simd, threads: nodeBackend.threads });
  // The machine may be busy with other work: alternate the two sides and keep each one's best.
  for (let rep = 1; rep <= repeats; rep++) {
    log(`round ${rep}/${repeats}: browser (headless Chromium)…`);
    const b = await page.evaluate(
      ([m, s]) =>
        (
          window as unknown as {
            mutuaBench: {
              run(
                models: string[],
                seconds: number,
              ): Promise<{ backend: BackendReport; results: BenchResult[] }>;
            };
          }
        ).mutuaBench.run(m, s),
      [models, seconds] as const,
    );
    const { name, reason, simd, threads } = b.backend;
    Object.assign(browser, { backend: name, reason, simd, threads });
    keepBest(browser, b.results);
    log(`round ${rep}/${repeats}: node…`);
    const n: BenchResult[] = [];
    for (const m of models as ModelArch[]) n.push(await measureTraining(m, seconds));
    keepBest(node, n);
  }
} finally {
  await chromium.close();
  server.close();
}

const rows = models.map((m) => {
  const b = browser.best.get(m)!;
  const n = node.best.get(m)!;
  return {
    model: m,
    params: n.params,
    browserBackend: browser.backend,
    browserSamplesPerSec: Math.round(b.samplesPerSecond * 10) / 10,
    nodeBackend: node.backend,
    nodeSamplesPerSec: Math.round(n.samplesPerSecond * 10) / 10,
    ratio: Math.round((b.samplesPerSecond / n.samplesPerSecond) * 100) / 100,
  };
});

if (values.json) {
  console.log(
    JSON.stringify({ batch: BENCH_BATCH, seconds, browser: { ...browser, results: undefined }, rows }),
  );
} else {
  const flags = (b: { simd?: boolean; threads?: number }) =>
    b.simd === undefined
      ? ''
      : ` (${b.simd ? 'SIMD' : 'no SIMD'}, ${b.threads ?? 1} thread${(b.threads ?? 1) > 1 ? 's' : ''})`;
  console.log('');
  console.log(
    `local training throughput: core's Trainer, mutual step (batch ${BENCH_BATCH} private + ${BENCH_BATCH} public rows), Adam;`,
  );
  console.log(`private samples/s, best of ${repeats} alternating runs of ${seconds} s per model and side`);
  console.log(
    `browser backend: ${browser.backend}${flags(browser)}${browser.reason ? ` — ${browser.reason}` : ''}`,
  );
  console.log(`node backend:    ${node.backend}${flags(node)}`);
  console.log('');
  console.log(
    `${'model'.padEnd(12)}${'params'.padStart(10)}${'browser'.padStart(12)}${'node'.padStart(12)}${'browser/node'.padStart(15)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.model.padEnd(12)}${r.params.toLocaleString('en-US').padStart(10)}${r.browserSamplesPerSec.toFixed(1).padStart(12)}` +
        `${r.nodeSamplesPerSec.toFixed(1).padStart(12)}${`${r.ratio.toFixed(2)}x`.padStart(15)}`,
    );
  }
}
