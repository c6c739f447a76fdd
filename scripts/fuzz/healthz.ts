/**
 * /healthz probed every 100 ms from a worker thread: its own event loop, so the fuzzer's
 * work (building a million-entry frame, say) does not show up as coordinator latency.
 * A probe that fails or takes longer than 5 s counts as failed.
 */
import { Worker } from 'node:worker_threads';

const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
let stopped = false;
parentPort.on('message', () => { stopped = true; });
(async () => {
  const ms = [];
  let failed = 0;
  while (!stopped) {
    const t0 = performance.now();
    try {
      const res = await fetch(workerData.url + '/healthz', { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.ok) ms.push(performance.now() - t0); else failed++;
    } catch { failed++; }
    await new Promise((r) => setTimeout(r, 100));
  }
  parentPort.postMessage({ ms, failed });
})();
`;

export interface HealthzSamples {
  ms: number[];
  failed: number;
}

export class HealthzSampler {
  private readonly worker: Worker;
  private readonly result: Promise<HealthzSamples>;

  constructor(url: string) {
    this.worker = new Worker(PROBE, { eval: true, workerData: { url } });
    this.result = new Promise((resolve, reject) => {
      this.worker.once('message', (m: HealthzSamples) => resolve(m));
      this.worker.once('error', reject);
    });
  }

  /** Stops probing and returns every latency (ms) and the failed probes. */
  async stop(): Promise<HealthzSamples> {
    this.worker.postMessage('stop');
    const r = await this.result;
    await this.worker.terminate();
    return r;
  }
}
