/**
 * The dashboard shows the selected federation's global student (`mutua federation distill`)
 * in headless Chromium: "none yet" with the command to make one, then, once a student is
 * published over the admin API, its architecture, size and agreement, and download links
 * that the page fetches without the admin token (model.json names weights.bin beside it).
 *
 * Skipped when Chromium is missing (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { quantizedArtifacts } from '@mutua/core/compress';
import { createModel } from '@mutua/core/models';
import * as tf from '@tensorflow/tfjs';
import { ADMIN_TOKEN, auth, createFederation, startServer } from '../../server/test/helper.ts';
import { type Browser, chromiumMissing, DIST, ensureBuilt, launchChromium } from './harness.ts';

describe('dashboard: the global student (headless Chromium)', { skip: chromiumMissing() }, () => {
  let browser: Browser;
  before(async () => {
    await ensureBuilt();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('none yet, then published: described, with working download links', {
    timeout: 120_000,
  }, async (t) => {
    const server = await startServer(t, { webDir: DIST });
    const fed = await createFederation(server.app);
    const page = await browser.context.newPage();
    page.on('pageerror', (err) => console.error(`[dashboard] ${err.message}`));
    await page.goto(`${server.url}/#federation=${fed.id}`);
    await page.fill('#token-input', ADMIN_TOKEN);
    await page.click('#token-submit');
    await page.waitForSelector('#student:has-text("none yet")');
    assert.match(
      (await page.textContent('#student')) ?? '',
      new RegExp(`mutua federation distill ${fed.id} --out DIR`),
    );

    const model = createModel('mlp-tiny', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    const a = quantizedArtifacts(model, 'uint8');
    model.dispose();
    const weights = Buffer.from(tf.io.CompositeArrayBuffer.join(a.weightData!));
    const put = await server.app.inject({
      method: 'PUT',
      url: `/v1/federations/${fed.id}/student`,
      headers: auth,
      payload: {
        model: {
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        },
        weights: weights.toString('base64'),
        info: {
          arch: 'mlp-tiny',
          encoding: 'uint8',
          epochs: 30,
          temperature: 3,
          params: 19090,
          rows: 256,
          consensusVersion: 4,
          targetAgreement: 0.97,
          testAccuracy: 0.9,
          testSet: 'mnist:test',
        },
      },
    });
    assert.equal(put.statusCode, 200, put.body);

    // Fetched with the selected federation's data (on selection, and at every poll).
    await page.reload();
    await page.waitForSelector('#student-model');
    const shown = (await page.textContent('#student')) ?? '';
    assert.match(shown, /Global student: mlp-tiny, 19,090 parameters, 18\.6 KiB \(uint8\)/);
    assert.match(shown, /97\.0% agreement with the consensus on 256 public rows, 90\.0% on mnist:test/);
    const href = await page.getAttribute('#student-model', 'href');
    assert.equal(href, `/v1/federations/${fed.id}/student/model.json`);
    // The links need no token: fetched as a plain browser request.
    const got = await page.evaluate(async (url) => {
      const json = (await (await fetch(url)).json()) as { weightsManifest: { paths: string[] }[] };
      const bin = await fetch(new URL(json.weightsManifest[0]!.paths[0]!, new URL(url, location.href)));
      return { paths: json.weightsManifest[0]!.paths, bytes: (await bin.arrayBuffer()).byteLength };
    }, href!);
    assert.deepEqual(got, { paths: ['weights.bin'], bytes: weights.byteLength });
  });
});
