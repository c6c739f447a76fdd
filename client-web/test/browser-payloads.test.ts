/**
 * The browser participant's payload codecs end to end, in headless Chromium: in a federation
 * that prefers soft2 labels, raw deflate and delta payloads, the join page (its Web Worker's
 * ParticipantSession, deflating with CompressionStream) negotiates all three and derived
 * indices (its Tasks and Targets come without index lists), and the real
 * coordinator accepts its uploads round after round, next to a Node participant that offers
 * only the older encodings, no compression, no deltas and no derived indices (uint8, full lists).
 *
 * Skipped when Chromium is missing (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { createFederation, getJson, startServer } from '../../server/test/helper.ts';
import { type Browser, chromiumMissing, DIST, ensureBuilt, launchChromium, NodePeer } from './harness.ts';

interface JoinStatus {
  phase: string;
  participantId: string;
  payload: string;
  roundsCompleted: number;
  uploads: { round: number; uploadBytes?: number; uploadRows?: number | null }[];
  lastError: { code: string; message: string } | null;
}

const ROWS = 64; // the whole public set every round: every row recurs

function joinStatus(page: Page): Promise<JoinStatus> {
  return page.evaluate(() => (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin);
}

describe('browser participant payloads (headless Chromium)', { skip: chromiumMissing() }, () => {
  let browser: Browser;
  before(async () => {
    await ensureBuilt();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('soft2 + deflate-raw + delta negotiated and accepted, next to a uint8 participant', async (t) => {
    const server = await startServer(t, { webDir: DIST });
    const fed = await createFederation(
      server.app,
      {
        mode: 'sync',
        batchSize: ROWS,
        sync: { minParticipants: 2 },
        encodings: ['soft2', 'uint8', 'float32'],
        compressions: ['deflate-raw'],
        delta: true,
        // A row goes again when a probability moved more than 0.1: early training moves nearly
        // every soft2 code of a 64-row batch a little, which would make every upload full.
        deltaThreshold: 0.1,
      },
      ROWS,
    );
    const peer = await NodePeer.join(server.wsUrl, fed.token, 'node-old');
    t.after(() => peer.stop());
    assert.equal(peer.client.welcome?.uploadEncoding, 3, 'the old participant keeps uint8');
    assert.equal(peer.client.welcome?.payloadCompression ?? 0, 0);
    assert.equal(peer.client.welcome?.payloadDelta ?? false, false);
    assert.equal(peer.client.welcome?.derivedIndices ?? false, false, 'and gets the index lists');
    peer.start(1);

    const page = await browser.context.newPage();
    page.on('pageerror', (err) => console.error(`[join page] ${err.message}`));
    await page.goto(`${server.url}/join/${encodeURIComponent(fed.token)}`);
    await page.waitForSelector('#join-button');
    await page.selectOption('#demo-size', '300');
    await page.click('#join-button');
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { mutuaJoin: JoinStatus }).mutuaJoin;
        return s.roundsCompleted >= 5 || s.phase === 'failed';
      },
      null,
      { timeout: 180_000, polling: 200 },
    );
    const s = await joinStatus(page);
    assert.notEqual(s.phase, 'failed', `the join page failed: ${JSON.stringify(s.lastError)}`);
    // The batch rule rebuilds the index lists the coordinator leaves out of its Tasks and Targets.
    assert.equal(s.payload, 'soft2 + deflate-raw + delta + derived indices');

    // Every upload acknowledged: soft2 of 64 x 10 is 160 bytes before deflate (uint8: 640).
    const ups = s.uploads;
    t.diagnostic(
      `browser uploads: ${JSON.stringify(ups.map((u) => [u.round, u.uploadBytes, u.uploadRows]))}`,
    );
    assert.ok(ups.length >= 5);
    for (const u of ups) assert.ok(u.uploadBytes! > 0 && u.uploadBytes! < 400, `frame ${u.uploadBytes}`);
    // The first carries every row; later ones only the rows that moved (a delta, smaller).
    assert.equal(ups[0]!.uploadRows, ROWS);
    const deltas = ups.slice(1).filter((u) => u.uploadRows! < ROWS);
    assert.ok(deltas.length >= 2, 'at least two uploads were deltas');

    // The coordinator accepted them: the browser's submissions in five rounds.
    const rows = await getJson<{ round: number; participantId: string; source: string }[]>(
      server.app,
      `/v1/federations/${fed.id}/metrics`,
    );
    const mine = rows.filter((r) => r.participantId === s.participantId && r.source === 'submission');
    assert.ok(new Set(mine.map((r) => r.round)).size >= 5, JSON.stringify(mine));
    assert.ok(peer.rounds.length >= 2, `the uint8 participant took part: ${peer.rounds}`);
    await page.close();
  });
});
