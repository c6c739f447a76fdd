/**
 * The quantized export (client-node/src/quantized-export.ts) loads in Chromium with stock
 * tf.loadLayersModel over HTTP and predicts as the in-memory model does, to the
 * quantization's tolerance: float32, float16, and uint8 served gzip-encoded from
 * weights.bin.gz (as a static server with gzip_static serves it).
 *
 * Skipped when Chromium is missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createModel } from '@mutua/core/models';
import * as tf from '@tensorflow/tfjs';
import { exportVariants } from '../../client-node/src/quantized-export.ts';
import { type Browser, chromiumMissing, launchChromium } from './harness.ts';

const TFJS = createRequire(import.meta.url).resolve('@tensorflow/tfjs/dist/tf.min.js');

describe('quantized export in Chromium', { skip: chromiumMissing() }, () => {
  let dir: string;
  let server: Server;
  let browser: Browser;
  let base: string;
  const input = Array.from({ length: 4 * 28 * 28 }, (_, i) => ((i * 7919) % 255) / 255);
  let expected: number[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mutua-export-browser-'));
    await tf.setBackend('cpu');
    const model = createModel('cnn-tiny', { inputShape: [28, 28, 1], numClasses: 10, seed: 7 });
    expected = tf.tidy(() => [...(model.predict(tf.tensor(input, [4, 28, 28, 1])) as tf.Tensor).dataSync()]);
    await exportVariants(model, dir);
    model.dispose();
    server = createServer(async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      try {
        if (path === '/') {
          res.setHeader('content-type', 'text/html');
          res.end('<!doctype html><script src="/tf.min.js"></script>');
        } else if (path === '/tf.min.js') {
          res.setHeader('content-type', 'text/javascript');
          res.end(await readFile(TFJS));
        } else if (path.startsWith('/gz/') && path.endsWith('/weights.bin')) {
          // The uint8 weights as a device downloads them: the .gz, gzip-encoded.
          res.setHeader('content-encoding', 'gzip');
          res.setHeader('content-type', 'application/octet-stream');
          res.end(await readFile(join(dir, normalize(path.slice(4))).concat('.gz')));
        } else {
          const rel = normalize(path.replace(/^\/(gz\/)?/, ''));
          if (rel.startsWith('..')) throw new Error('outside');
          res.end(await readFile(join(dir, rel)));
        }
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [variant, url, tol] of [
    ['float32', '/float32/model.json', 1e-4],
    ['float16', '/float16/model.json', 2e-2],
    ['uint8 (gzip-encoded .gz)', '/gz/uint8/model.json', 0.15],
  ] as const) {
    test(`${variant} loads with tf.loadLayersModel and predicts as the in-memory model`, async () => {
      const page = await browser.context.newPage();
      try {
        await page.goto(`${base}/`);
        const got = await page.evaluate(
          async ({ url, input }) => {
            const t = (window as unknown as { tf: typeof tf }).tf;
            await t.setBackend('cpu');
            const model = await t.loadLayersModel(url);
            const out = model.predict(t.tensor(input, [4, 28, 28, 1])) as tf.Tensor;
            return Array.from(await out.data());
          },
          { url, input },
        );
        assert.equal(got.length, expected.length);
        got.forEach((v, i) => {
          assert.ok(Math.abs(v - expected[i]!) <= tol, `${variant}[${i}]: ${v} vs ${expected[i]}`);
        });
      } finally {
        await page.close();
      }
    });
  }
});
