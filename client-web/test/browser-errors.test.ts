/**
 * What the join page tells a person when something is wrong, in headless Chromium: a
 * wrong join link, a paused federation, data that does not fit the task (wrong image
 * size, wrong feature count, too many classes), and a browser without WebAssembly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { auth, createFederation, startServer, type TestServer } from '../../server/test/helper.ts';
import { ARTIFACTS, type Browser, chromiumMissing, DIST, ensureBuilt, launchChromium } from './harness.ts';

interface JoinStatus {
  phase: string;
  backend: string;
  arch: string;
  state: string;
  wasm: boolean;
  lastError: { code: string; message: string } | null;
}

const status = (page: Page) =>
  page.evaluate(() => (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin);

function waitForError(page: Page, code: string): Promise<unknown> {
  return page.waitForFunction(
    (want) => (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin.lastError?.code === want,
    code,
    { timeout: 30_000 },
  );
}

function png(width: number, height: number): Buffer {
  const image = new PNG({ width, height });
  image.data.fill(255);
  return PNG.sync.write(image);
}

describe('join page errors (headless Chromium)', { skip: chromiumMissing() }, () => {
  let browser: Browser;
  let server: TestServer;
  let files: string;

  before(async () => {
    await ensureBuilt();
    [browser, server] = await Promise.all([launchChromium(), startServer(null, { webDir: DIST })]);
    files = mkdtempSync(join(tmpdir(), 'mutua-join-files-'));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(files, { recursive: true, force: true });
  });

  test('a wrong join link says so and offers nothing to join', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/join/mutua_this-is-not-a-token`);
    await page.waitForSelector('#alerts .alert.error');
    assert.match((await page.textContent('#alerts')) ?? '', /join link is not valid/);
    assert.equal((await status(page)).lastError?.code, 'MUTUA_ERR_BAD_TOKEN');
    assert.equal(await page.locator('#join-button').count(), 0);
    await page.close();
  });

  test('data that does not fit the task is refused with what to change', async () => {
    const fed = await createFederation(server.app);
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/join/${fed.token}`);
    await page.waitForSelector('#join-button');

    // Images of the wrong size.
    const a = join(files, '3_a.png');
    const b = join(files, '5_b.png');
    writeFileSync(a, png(32, 32));
    writeFileSync(b, png(32, 32));
    await page.setInputFiles('#files-input', [a, b]);
    await page.click('#join-button');
    await waitForError(page, 'DATA_IMAGE_SIZE');
    assert.match((await page.textContent('#alerts')) ?? '', /takes 28×28 images.*3_a\.png is 32×32.*resize/);

    // A CSV whose rows do not have 784 features.
    const narrow = join(files, 'narrow.csv');
    writeFileSync(narrow, 'label,a,b,c\n1,0,0.5,1\n2,1,0,0\n');
    await page.waitForSelector('#join-button');
    await page.setInputFiles('#csv-input', narrow);
    await page.click('#join-button');
    await waitForError(page, 'DATA_SHAPE');
    assert.match((await page.textContent('#alerts')) ?? '', /narrow\.csv does not fit/);
    // The refused attempt keeps the form as the person left it (it used to be rebuilt, empty),
    // and no "waiting for the first task" card stays under the error.
    await page.waitForSelector('#join-button');
    assert.equal(
      await page.$eval('#csv-input', (el) => (el as HTMLInputElement).files?.[0]?.name),
      'narrow.csv',
    );
    assert.equal(await page.isChecked('#data-csv'), true);
    assert.equal(await page.isVisible('#run-card'), false);

    // A CSV with more classes than the task has.
    const wide = join(files, 'classes.csv');
    const row = (label: number) => `${label},${Array.from({ length: 784 }, () => '0').join(',')}`;
    writeFileSync(wide, `${[row(1), row(12)].join('\n')}\n`);
    await page.waitForSelector('#join-button');
    await page.setInputFiles('#csv-input', wide);
    await page.click('#join-button');
    await waitForError(page, 'DATA_CLASS_COUNT');
    assert.match((await page.textContent('#alerts')) ?? '', /classes\.csv does not fit.*12/);
    await page.close();
  });

  test('a paused federation: the page says so, and the worker waits to be let in', async () => {
    const fed = await createFederation(server.app);
    const paused = await server.app.inject({
      method: 'POST',
      url: `/v1/federations/${fed.id}/pause`,
      headers: auth,
    });
    assert.equal(paused.statusCode, 200);
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/join/${fed.token}`);
    await page.waitForSelector('#join-button');
    assert.match((await page.textContent('#alerts')) ?? '', /paused this federation/);
    await page.selectOption('#demo-size', '300');
    await page.click('#join-button');
    await waitForError(page, 'FEDERATION_PAUSED');
    assert.match(
      (await page.textContent('#alerts')) ?? '',
      /operator paused the federation.*Next attempt in \d+ s/,
    );
    assert.equal(await page.textContent('#session-state'), 'reconnecting');
    await page.screenshot({ path: join(ARTIFACTS, 'join-paused.png'), fullPage: true });
    await page.click('#leave-button');
    await page.waitForFunction(
      () => (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin.phase === 'left',
    );
    await page.close();
  });

  test('without WebAssembly: a warning, and training falls back to the CPU backend with the mlp', async () => {
    const fed = await createFederation(server.app, { batchSize: 16 });
    // Chromium has no switch that removes WebAssembly (V8's --no-expose-wasm is ignored), so
    // take it away from the page and, by rewriting the worker's script, from the worker.
    const context = browser.context;
    const page = await context.newPage();
    await page.addInitScript(() => {
      delete (globalThis as { WebAssembly?: unknown }).WebAssembly;
    });
    await page.route('**/assets/worker-*.js', async (route) => {
      const res = await route.fetch();
      const body = `delete globalThis.WebAssembly;\n${await res.text()}`;
      await route.fulfill({ response: res, body });
    });
    await page.goto(`${server.url}/join/${fed.token}`);
    await page.waitForSelector('#join-button');
    assert.equal((await status(page)).wasm, false);
    assert.match((await page.textContent('#alerts')) ?? '', /no WebAssembly.*CPU backend/);
    await page.selectOption('#demo-size', '300');
    await page.click('#join-button');
    await page.waitForFunction(
      () => (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin.arch !== '',
      null,
      {
        timeout: 30_000,
      },
    );
    const s = await status(page);
    assert.equal(s.backend, 'cpu');
    assert.equal(s.arch, 'mlp');
    assert.match((await page.textContent('#backend-line')) ?? '', /CPU.*no WebAssembly/);
    await page.click('#leave-button');
    await page.waitForFunction(
      () => (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin.phase === 'left',
      null,
      {
        timeout: 30_000,
      },
    );
    await page.close();
  });
});
