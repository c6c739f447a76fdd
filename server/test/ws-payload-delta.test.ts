// Delta payloads over the real WebSocket (PROTOCOL.md, "Delta payloads"): a participant that
// offers deltas uploads only the rows that changed since its acknowledged upload, and gets its
// targets as deltas against the Targets this connection received before; a participant that
// does not know deltas shares the federation and keeps full payloads. The coordinator's
// decoded values equal what a full payload would have given; a delta against a base the
// coordinator does not hold gets DELTA_BASE_UNKNOWN, and the full resend is accepted; the
// upload base outlives a reconnect and a coordinator restart (rebuilt from the stored uploads).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  DeltaRows,
  decodeDelta,
  decodePredictions,
  encodeDelta,
  encodePredictions,
  maxDeltaByteLength,
} from '@mutua/proto';
import { createFederation, describeEachDatabase, startServer } from './helper.ts';
import { createPostgresDatabase } from './postgres.ts';
import { TestClient } from './test-client.ts';

const C = 10;
const N = 64; // the whole public set every round: every row recurs
const SETTINGS = {
  mode: 'sync',
  sync: { quorum: 2 },
  batchSize: N,
  aggregation: 'median', // the others' median of one participant is its values, exactly
  encodings: ['soft2', 'uint8', 'float32'],
  targetEncodings: ['soft2', 'float32'],
  compressions: ['deflate-raw'],
  delta: true,
};

/** A participant whose prediction of public row i is peaked on class (i + shift(i)) mod C. */
function rowsFor(indices: ArrayLike<number>, shift: (i: number) => number): Float32Array {
  const out = new Float32Array(indices.length * C);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]!;
    const top = (i + shift(i)) % C;
    for (let j = 0; j < C; j++)
      out[r * C + j] = j === top ? 0.55 : j === (top + 1) % C ? 0.2 : 0.25 / (C - 2);
  }
  return out;
}

describeEachDatabase('WebSocket: delta payloads', (database) => {
  it('uploads and targets shrink to the changed rows, values as if full, old peers unaffected', async (t) => {
    const { wsUrl, app } = await startServer(t, { database });
    const fed = await createFederation(app, SETTINGS, N);
    const a = await TestClient.connect(wsUrl);
    const b = await TestClient.connect(wsUrl);
    t.after(() => {
      a.close();
      b.close();
    });
    const wa = (
      await a.hello({
        joinToken: fed.token,
        supportedEncodings: [7, 3, 1],
        supportedCompressions: [1],
        supportsDelta: true,
      })
    ).envelope.welcome!;
    assert.equal(wa.payloadDelta, true);
    assert.equal(wa.federation!.delta, true);
    assert.deepEqual([wa.uploadEncoding, wa.downloadEncoding, wa.payloadCompression], [7, 7, 1]);
    // An older participant (no supports_delta) is never sent a delta and may not send one.
    const wb = (await b.hello({ joinToken: fed.token, supportedEncodings: [1, 2, 3, 4] })).envelope.welcome!;
    assert.equal(wb.payloadDelta ?? false, false);
    assert.deepEqual([wb.uploadEncoding, wb.downloadEncoding], [3, 1]);

    const mine = new DeltaRows(C); // what a holds of its own acknowledged uploads
    const theirs = new DeltaRows(C); // what a holds of its Targets on this connection
    const sizes: { full: number[]; delta: number[] } = { full: [], delta: [] };
    let lastA: Float32Array = new Float32Array(0);
    let lastIndices: Uint32Array = new Uint32Array(0);
    for (let round = 1; round <= 4; round++) {
      const ta = (await a.task(round)).envelope.task!;
      const tb = (await b.task(round)).envelope.task!;
      const idx = Uint32Array.from(ta.predictIndices!);
      assert.equal(idx.length, N);
      // a's predictions: a quarter of the rows change each round.
      // Row i moves at the rounds t with t = i (mod 4).
      const probs = rowsFor(
        idx,
        (i) => Array.from({ length: round }, (_, t) => t + 1).filter((t) => t % 4 === i % 4).length,
      );
      const d = encodeDelta(probs, idx, C, 'soft2', mine);
      const deltaBase = mine.version;
      const full = encodePredictions(probs, N, C, 'soft2');
      // Nothing held yet: a full payload (delta_base 0).
      const packed = deflateRawSync(deltaBase === 0 ? full : d.payload);
      sizes.full.push(deflateRawSync(full).length);
      sizes.delta.push(packed.length);
      const seq = a.send({
        predictions: { round, encoding: 7, rows: N, classes: C, payload: packed, compression: 1, deltaBase },
      });
      const ack = await a.reply(seq);
      assert.equal(ack.body, 'ack', JSON.stringify(ack.envelope.error));
      assert.equal(Number(ack.envelope.ack!.bytesAccepted), packed.length);
      mine.update(idx, d.values, round);
      if (round > 1) {
        assert.equal(deltaBase, round - 1);
        // Only the changed quarter travels (threshold 0: the soft2 codes of the others are equal).
        assert.equal(d.sent, N / 4);
        assert.equal(d.payload.length, N / 8 + (N / 4) * ((C * 2) / 8)); // 48 bytes against 160 full
        // Values as if the upload had been full.
        assert.deepEqual(d.values, decodePredictions(full, N, C, 'soft2'));
      }
      lastA = d.values;
      lastIndices = idx;
      // b: uint8, full, unchanged predictions every round.
      assert.equal(
        (
          await b.reply(
            b.upload(round, tb.predictIndices!.length, { probs: rowsFor(tb.predictIndices!, () => 5) }),
          )
        ).body,
        'ack',
      );
      // The round closed: the next Task carries each one's targets.
      const peek = (c: TestClient) =>
        c.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > round, undefined, false);
      const na = (await peek(a)).envelope.task!;
      const nb = (await peek(b)).envelope.task!;
      // b's targets: full float32, exactly a's values (what the coordinator decoded from a's delta).
      const tbt = nb.targets!;
      assert.equal(Number(tbt.deltaBase ?? 0), 0);
      const got = decodePredictions(tbt.payload!, N, C, 'float32');
      const order = new Map([...lastIndices].map((v, r) => [v, r]));
      for (let r = 0; r < N; r++) {
        const from = order.get(tbt.indices![r]!)!;
        assert.deepEqual(got.subarray(r * C, (r + 1) * C), lastA.subarray(from * C, (from + 1) * C));
      }
      // a's targets: soft2, deflated, a delta against the previous Targets from round 3 on.
      const tat = na.targets!;
      const raw = inflateRawSync(tat.payload!);
      const base = Number(tat.deltaBase ?? 0);
      assert.equal(base, round === 1 ? 0 : theirs.version);
      const values =
        base === 0
          ? decodePredictions(raw, N, C, 'soft2')
          : decodeDelta(raw, tat.indices!, C, 'soft2', theirs).values;
      if (base !== 0) {
        // b never changes: the delta is the row mask alone.
        assert.equal(raw.length, N / 8);
      }
      const expected = decodePredictions(
        encodePredictions(
          rowsFor(tat.indices!, () => 5),
          N,
          C,
          'soft2',
        ),
        N,
        C,
        'soft2',
      );
      assert.deepEqual(values, expected);
      theirs.update(tat.indices!, values, Number(tat.version));
    }
    // Deflate already squeezes these very regular rows; the delta still takes a good share off.
    assert.ok(
      sizes.delta.slice(1).every((size, i) => size < sizes.full[i + 1]! * 0.7),
      `delta bytes ${sizes.delta} vs full ${sizes.full}`,
    );
    t.diagnostic(`soft2+deflate upload bytes per round: full ${sizes.full}, delta ${sizes.delta}`);
  });

  it('an unknown base gets DELTA_BASE_UNKNOWN and the full resend is accepted; the base outlives a reconnect', async (t) => {
    const { wsUrl, app } = await startServer(t, { database });
    const fed = await createFederation(app, { ...SETTINGS, sync: { quorum: 1 } }, N);
    const hello = { joinToken: fed.token, supportedEncodings: [7, 3, 1], supportsDelta: true };
    let a = await TestClient.connect(wsUrl);
    t.after(() => a.close());
    const resumeToken = (await a.hello(hello)).envelope.welcome!.resumeToken!;
    const mine = new DeltaRows(C);
    const send = (c: TestClient, round: number, payload: Uint8Array, deltaBase: number) =>
      c.send({ predictions: { round, encoding: 7, rows: N, classes: C, payload, deltaBase } });

    let idx = Uint32Array.from((await a.task(1)).envelope.task!.predictIndices!);
    let probs = rowsFor(idx, () => 1);
    // A delta before anything was acknowledged: the coordinator holds nothing.
    const early = encodeDelta(probs, idx, C, 'soft2', new DeltaRows(C));
    const e1 = await a.error(27, send(a, 1, early.payload, 9));
    assert.equal(e1.fatal, false);
    assert.match(e1.message, /resend it full/);
    const full = encodePredictions(probs, N, C, 'soft2');
    assert.equal((await a.reply(send(a, 1, full, 0))).body, 'ack');
    mine.update(idx, decodePredictions(full, N, C, 'soft2'), 1);

    // Reconnect (resume): the coordinator still holds round 1's rows.
    a.close();
    await a.waitClose();
    a = await TestClient.connect(wsUrl);
    await a.hello({ ...hello, joinToken: '', resumeToken });
    idx = Uint32Array.from((await a.task(2)).envelope.task!.predictIndices!);
    probs = rowsFor(idx, (i) => (i < 8 ? 2 : 1));
    const d = encodeDelta(probs, idx, C, 'soft2', mine);
    assert.equal(d.sent, 8);
    // A wrong base (the rows held are round 1's) is refused with the round it holds.
    const e2 = await a.error(27, send(a, 2, d.payload, 2));
    assert.match(e2.message, /rows held are of round 1/);
    assert.equal((await a.reply(send(a, 2, d.payload, 1))).body, 'ack');
    assert.ok(d.payload.length < maxDeltaByteLength(N, C, 'soft2') / 3);

    // Malformed deltas get coded payload errors: mask padding cannot occur for 64 rows, so a short payload.
    const e3 = await a.error(21, send(a, 2, d.payload.subarray(0, 9), 2));
    assert.equal(e3.detail, 'PAYLOAD_LENGTH_MISMATCH');
    // And a participant that did not negotiate deltas may not send one.
    const old = await TestClient.connect(wsUrl);
    t.after(() => old.close());
    await old.hello({ joinToken: fed.token, supportedEncodings: [7, 3, 1] });
    const r = Number((await old.task(1)).envelope.task!.round);
    const e4 = await old.error(22, send(old, r, d.payload, 1));
    assert.equal(e4.detail, 'DELTA');
  });

  it('the upload base survives a coordinator restart: rebuilt from the stored uploads, values exact', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mutua-delta-restart-'));
    const pgdb = database === 'postgres' ? await createPostgresDatabase() : null;
    const options = { database, dataDir, ...(pgdb ? { databaseUrl: pgdb.url } : {}) };
    let server = await startServer(null, options);
    t.after(async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      await pgdb?.drop();
    });
    const fed = await createFederation(server.app, SETTINGS, N);
    const helloA = { supportedEncodings: [7, 3, 1], supportsDelta: true };
    const helloB = { supportedEncodings: [1, 2, 3, 4] };
    let a = await TestClient.connect(server.wsUrl);
    let b = await TestClient.connect(server.wsUrl);
    t.after(() => {
      a.close();
      b.close();
    });
    const tokenA = (await a.hello({ ...helloA, joinToken: fed.token })).envelope.welcome!.resumeToken!;
    const tokenB = (await b.hello({ ...helloB, joinToken: fed.token })).envelope.welcome!.resumeToken!;
    const mine = new DeltaRows(C);
    // a's rows change at round t when t = i (mod 4), as in the first test.
    const predict = (idx: Uint32Array, round: number) =>
      rowsFor(
        idx,
        (i) => Array.from({ length: round }, (_, t) => t + 1).filter((t) => t % 4 === i % 4).length,
      );
    /** `askAfter`: a TaskRequest right behind the upload (as a client that re-sends after a restart). */
    const play = async (round: number, askAfter = false) => {
      const idx = Uint32Array.from((await a.task(round)).envelope.task!.predictIndices!);
      const d = encodeDelta(predict(idx, round), idx, C, 'soft2', mine);
      const deltaBase = mine.version;
      const payload = deltaBase === 0 ? d.full.payload : d.payload;
      const seq = a.send({ predictions: { round, encoding: 7, rows: N, classes: C, payload, deltaBase } });
      if (askAfter) a.send({ taskRequest: { lastRound: round - 1 } });
      const ack = await a.reply(seq);
      assert.equal(ack.body, 'ack', JSON.stringify(ack.envelope.error));
      mine.update(idx, d.values, round);
      const tb = (await b.task(round)).envelope.task!;
      const up = b.upload(round, N, { probs: rowsFor(tb.predictIndices!, () => 5) });
      assert.equal((await b.reply(up)).body, 'ack');
      return { values: d.values, idx };
    };
    await play(1);
    await play(2);

    // The coordinator restarts on the same database; both resume.
    await server.close();
    a.close();
    b.close();
    server = await startServer(null, options);
    a = await TestClient.connect(server.wsUrl);
    b = await TestClient.connect(server.wsUrl);
    await a.hello({ ...helloA, resumeToken: tokenA });
    await b.hello({ ...helloB, resumeToken: tokenB });
    // Round 3's delta names round 2's rows, which only the store still holds: accepted.
    const { values, idx } = await play(3, true);
    // The TaskRequest waited for the upload being rebuilt against: round 3 was not offered again.
    await b.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > 3, undefined, false);
    await a.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > 3, undefined, false);
    assert.equal(
      a.received.filter((r) => r.body === 'task' && Number(r.envelope.task!.round) === 3).length,
      0,
    );
    // b's targets of round 4 are a's round-3 values as the coordinator rebuilt them (median of one).
    const nb = (
      await b.next((r) => r.body === 'task' && Number(r.envelope.task!.round) > 3, undefined, false)
    ).envelope.task!;
    const got = decodePredictions(nb.targets!.payload!, N, C, 'float32');
    const order = new Map([...idx].map((v, r) => [v, r]));
    for (let r = 0; r < N; r++) {
      const from = order.get(nb.targets!.indices![r]!)!;
      assert.deepEqual(got.subarray(r * C, (r + 1) * C), values.subarray(from * C, (from + 1) * C));
    }
  });

  it('targets continue as deltas after a reconnect when the Hello names the version held, else go full', async (t) => {
    const { wsUrl, app } = await startServer(t, { database });
    const fed = await createFederation(app, SETTINGS, N);
    const hello = { supportedEncodings: [7, 3, 1], supportedCompressions: [1], supportsDelta: true };
    let a = await TestClient.connect(wsUrl);
    const b = await TestClient.connect(wsUrl);
    t.after(() => {
      a.close();
      b.close();
    });
    const resumeToken = (await a.hello({ ...hello, joinToken: fed.token })).envelope.welcome!.resumeToken!;
    await b.hello({ joinToken: fed.token, supportedEncodings: [1, 2, 3, 4] });
    // b predicts the same every round; a uploads full soft2 (its own deltas are tested above).
    const play = async (c: TestClient, round: number, encoding: 'soft2' | 'uint8') => {
      const idx = (await c.task(round)).envelope.task!.predictIndices!;
      const probs = rowsFor(idx, () => (encoding === 'uint8' ? 5 : round));
      const r = await c.reply(c.upload(round, idx.length, { encoding, probs }));
      assert.equal(r.body, 'ack');
    };
    const targetsOf = async (c: TestClient, round: number) => {
      const task = (
        await c.next((r) => r.body === 'task' && Number(r.envelope.task!.round) >= round, undefined, false)
      ).envelope.task!;
      return task.targets!;
    };
    await Promise.all([play(a, 1, 'soft2'), play(b, 1, 'uint8')]);
    const t2 = await targetsOf(a, 2);
    assert.equal(Number(t2.deltaBase ?? 0), 0);
    const held = Number(t2.version);

    // Reconnect naming the version held: the Task the new connection opens with carries its
    // Targets as a delta against it (b unchanged: the row mask alone), and so do later ones.
    a.close();
    await a.waitClose();
    a = await TestClient.connect(wsUrl);
    await a.hello({ ...hello, resumeToken, deltaTargetsVersion: held });
    const again = await targetsOf(a, 2);
    assert.equal(Number(again.deltaBase), held);
    assert.equal(inflateRawSync(again.payload!).length, N / 8);
    await Promise.all([play(a, 2, 'soft2'), play(b, 2, 'uint8')]);
    const t3 = await targetsOf(a, 3);
    assert.equal(Number(t3.deltaBase), Number(again.version));
    assert.equal(inflateRawSync(t3.payload!).length, N / 8);

    // Reconnect naming a version the coordinator does not hold: the first Targets are full.
    a.close();
    await a.waitClose();
    a = await TestClient.connect(wsUrl);
    await a.hello({ ...hello, resumeToken, deltaTargetsVersion: held + 100 });
    const fresh = await targetsOf(a, 3);
    assert.equal(Number(fresh.deltaBase ?? 0), 0);
    assert.equal(inflateRawSync(fresh.payload!).length, (N * C * 2) / 8);
  });
});
