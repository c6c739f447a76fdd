/**
 * The browser participant end to end, in Debian's headless Chromium driven by
 * playwright-core: it joins a federation next to two Node participants (protocol-level
 * TestClients), trains on a demo shard in its Web Worker, and the coordinator counts its
 * submissions; in sync mode for three rounds, with a refresh in the middle that must
 * resume as the same participant, and in async mode for three versions.
 *
 * Skipped when Chromium is missing (.ci/run installs it). Screenshots go to test-artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  ADMIN_TOKEN,
  auth,
  createFederation,
  getJson,
  startServer,
  type TestServer,
} from '../../server/test/helper.ts';
import {
  ARTIFACTS,
  type Browser,
  chromiumMissing,
  DIST,
  ensureBuilt,
  launchChromium,
  NodePeer,
} from './harness.ts';

interface JoinStatus {
  phase: string;
  backend: string;
  arch: string;
  participantId: string;
  resumed: boolean;
  state: string;
  round: number;
  roundsCompleted: number;
  bytesUp: number;
  bytesDown: number;
  valAccuracy: number | null;
  uploads: { round: number; staleness: number }[];
  lastError: { code: string; message: string } | null;
}

interface MetricRow {
  round: number;
  participantId: string;
  source: string;
  metrics: Record<string, number>;
}

interface ParticipantRow {
  id: string;
  kind: string;
  modelArch: string;
  online: boolean;
}

const ROUND_TIMEOUT = 60_000;

function joinStatus(page: Page): Promise<JoinStatus> {
  return page.evaluate(() => (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin);
}

/** Waits until the page has uploaded `n` results since it (re)loaded; fails early if the page failed. */
async function waitForUploads(page: Page, n: number, timeout = ROUND_TIMEOUT * n): Promise<JoinStatus> {
  await page.waitForFunction(
    (want) => {
      const s = (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin;
      return s.roundsCompleted >= want || s.phase === 'failed';
    },
    n,
    { timeout, polling: 200 },
  );
  const s = await joinStatus(page);
  assert.notEqual(s.phase, 'failed', `the join page failed: ${JSON.stringify(s.lastError)}`);
  return s;
}

async function openJoinPage(browser: Browser, server: TestServer, token: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[join page] ${err.message}`));
  await page.goto(`${server.url}/join/${encodeURIComponent(token)}`);
  await page.waitForSelector('#join-button');
  await page.selectOption('#demo-size', '300');
  await page.click('#join-button');
  return page;
}

/** The dashboard, signed in with a wrong admin token first (it must say so), then the right one. */
async function openDashboard(browser: Browser, server: TestServer): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[dashboard] ${err.message}`));
  await page.goto(`${server.url}/`);
  await page.fill('#token-input', 'not-the-admin-token');
  await page.click('#token-submit');
  await page.waitForSelector('#alerts .alert.error');
  assert.match((await page.textContent('#alerts')) ?? '', /refused that admin token/);
  await page.fill('#token-input', ADMIN_TOKEN);
  await page.click('#token-submit');
  await page.waitForSelector('#federation-card:not(.hidden)');
  return page;
}

async function submissionsBy(
  server: TestServer,
  federationId: string,
  participantId: string,
): Promise<MetricRow[]> {
  const rows = await getJson<MetricRow[]>(server.app, `/v1/federations/${federationId}/metrics`);
  return rows.filter((r) => r.participantId === participantId && r.source === 'submission');
}

describe('browser participant (headless Chromium)', { skip: chromiumMissing() }, () => {
  let browser: Browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureBuilt();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('sync: three rounds next to two Node participants; a refresh resumes as the same participant', async (t) => {
    const server = await startServer(t, { webDir: DIST });
    // minParticipants 3: the round opens when the browser is in, so the Node peers do not race ahead.
    const fed = await createFederation(
      server.app,
      { mode: 'sync', batchSize: 64, sync: { minParticipants: 3 } },
      256,
    );
    const peers = [
      await NodePeer.join(server.wsUrl, fed.token, 'node-a'),
      await NodePeer.join(server.wsUrl, fed.token, 'node-b'),
    ];
    t.after(() => Promise.all(peers.map((p) => p.stop())));
    peers.forEach((p, i) => {
      p.start(i + 1);
    });

    const page = await openJoinPage(browser, server, fed.token);
    const first = await waitForUploads(page, 2);
    assert.equal(first.backend, 'wasm', 'headless Chromium has only SwiftShader WebGL: WebAssembly must win');
    assert.equal(first.arch, 'cnn-small');
    assert.ok(first.participantId);
    assert.ok(first.bytesUp > 0 && first.bytesDown > 0);
    assert.match(
      (await page.textContent('#backend-line')) ?? '',
      /WebAssembly.*software-rendered \(SwiftShader\)/,
    );

    // The operator's dashboard shows it online, and its accuracy chart grows as rounds complete.
    const dashboard = await openDashboard(browser, server);
    await dashboard.waitForSelector(
      `#participants-body tr[data-participant-id="${first.participantId}"][data-online="true"][data-kind="browser"]`,
      { timeout: 20_000 },
    );
    const pointsBefore = Number(await dashboard.getAttribute('#accuracy-chart', 'data-points'));
    assert.ok(pointsBefore >= 2, `accuracy points: ${pointsBefore}`);

    // A refresh in the middle of the federation: the worker dies mid-round, the page comes back.
    await page.reload();
    await page.waitForFunction(
      () => (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin.participantId !== '',
      null,
      {
        timeout: ROUND_TIMEOUT,
      },
    );
    const again = await waitForUploads(page, 1);
    assert.equal(again.participantId, first.participantId, 'the refresh resumed as another participant');
    assert.equal(again.resumed, true);
    assert.match((await page.textContent('#model-line')) ?? '', /restored/);
    await page.screenshot({ path: join(ARTIFACTS, 'join-sync.png'), fullPage: true });
    await dashboard.waitForFunction(
      (before) => Number(document.getElementById('accuracy-chart')?.dataset.points) > before,
      pointsBefore,
      { timeout: 20_000 },
    );
    assert.ok(Number(await dashboard.getAttribute('#traffic-chart', 'data-points')) >= 2);
    assert.ok((await dashboard.locator('#timeline-body tr').count()) >= 3);
    await dashboard.click('#create-join-link');
    assert.match((await dashboard.textContent('#join-url')) ?? '', /\/join\/mutua_/);
    await dashboard.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // The coordinator's view (REST): one browser participant, online, with its submissions counted.
    const participants = await getJson<ParticipantRow[]>(
      server.app,
      `/v1/federations/${fed.id}/participants`,
    );
    assert.equal(participants.length, 3, JSON.stringify(participants));
    const me = participants.find((p) => p.id === first.participantId);
    assert.ok(me, 'the browser participant is listed');
    assert.equal(me.kind, 'browser');
    assert.equal(me.modelArch, 'cnn-small');
    assert.equal(me.online, true);
    const subs = await submissionsBy(server, fed.id, first.participantId);
    const rounds = new Set(subs.map((s) => s.round));
    assert.ok(rounds.size >= 3, `the coordinator counted the browser in rounds ${[...rounds]}`);
    assert.ok(
      subs.every((s) => typeof s.metrics.valAccuracy === 'number' || Object.keys(s.metrics).length > 0),
    );
    // Every round it took part in closed with all three (quorum = everyone online).
    const closed = await getJson<{ number: number; status: string; submissions: number }[]>(
      server.app,
      `/v1/federations/${fed.id}/rounds`,
    );
    const withBrowser = closed.filter((r) => rounds.has(r.number) && r.status !== 'open');
    assert.ok(withBrowser.length >= 2, JSON.stringify(closed));
    assert.ok(withBrowser.every((r) => r.submissions >= 2));

    await page.click('#leave-button');
    await page.waitForFunction(
      () => (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin.phase === 'left',
      null,
      {
        timeout: 20_000,
      },
    );
    await page.close();
    await dashboard.close();
  });

  test('async: three consensus versions next to two Node participants', async (t) => {
    const server = await startServer(t, { webDir: DIST });
    // bufferK 3: a version needs three fresh contributions, so the browser's count every time.
    const fed = await createFederation(
      server.app,
      { mode: 'async', batchSize: 64, async: { bufferK: 3 } },
      256,
    );
    const peers = [
      await NodePeer.join(server.wsUrl, fed.token, 'node-a'),
      await NodePeer.join(server.wsUrl, fed.token, 'node-b'),
    ];
    t.after(() => Promise.all(peers.map((p) => p.stop())));
    peers.forEach((p, i) => {
      p.start(i + 3);
    });
    const page = await openJoinPage(browser, server, fed.token);
    const s = await waitForUploads(page, 3);
    const versions = new Set(s.uploads.map((u) => u.round));
    assert.ok(versions.size >= 3, `contributed to versions ${[...versions]}`);
    await page.screenshot({ path: join(ARTIFACTS, 'join-async.png'), fullPage: true });

    const subs = await submissionsBy(server, fed.id, s.participantId);
    assert.ok(new Set(subs.map((r) => r.round)).size >= 3, JSON.stringify(subs.map((r) => r.round)));
    const fedView = await server.app.inject({ url: `/v1/federations/${fed.id}`, headers: auth });
    assert.ok(fedView.json().consensusVersion >= 3, fedView.body);
    await page.close();
  });
});
