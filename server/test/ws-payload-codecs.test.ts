// Low-bit labels, target encodings and payload compression over the real WebSocket: a
// participant that knows only the pre-issue-12 encodings (no compression) and one that knows
// them all share a federation that prefers the new ones; each gets what it can handle, both
// ways, in the same rounds. Bad low-bit and compressed payloads get coded errors and the
// connection stays usable.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodePredictions, encodePredictions, validateTargets } from '@mutua/proto';
import { createFederation, describeEachDatabase, startServer } from './helper.ts';
import { predictions, TestClient } from './test-client.ts';

const OLD_ENCODINGS = [1, 2, 3, 4]; // float32, float16, uint8, topk: all an older client lists
const NEW_ENCODINGS = [9, 7, 8, 6, 3, 1]; // hard, soft2, soft4, soft1, uint8, float32
const SETTINGS = {
  mode: 'sync',
  sync: { quorum: 2 },
  encodings: ['soft2', 'uint8', 'float32'],
  targetEncodings: ['hard', 'soft4'],
  compressions: ['deflate-raw'],
};

describeEachDatabase('WebSocket: low-bit encodings, target encodings and compression', (database) => {
  it('an old participant gets uint8 both ways, a new one soft2 up, hard down, deflated', async (t) => {
    const { wsUrl, app } = await startServer(t, { database });
    const fed = await createFederation(app, SETTINGS);
    const old = await TestClient.connect(wsUrl);
    const neu = await TestClient.connect(wsUrl);
    t.after(() => {
      old.close();
      neu.close();
    });
    const wo = (await old.hello({ joinToken: fed.token, name: 'old', supportedEncodings: OLD_ENCODINGS }))
      .envelope.welcome!;
    assert.deepEqual([wo.uploadEncoding, wo.downloadEncoding, wo.payloadCompression ?? 0], [3, 3, 0]);
    const wn = (
      await neu.hello({
        joinToken: fed.token,
        name: 'new',
        supportedEncodings: NEW_ENCODINGS,
        supportedCompressions: [1],
      })
    ).envelope.welcome!;
    assert.deepEqual([wn.uploadEncoding, wn.downloadEncoding, wn.payloadCompression], [7, 9, 1]);
    assert.deepEqual(wn.federation!.targetEncodings, [9, 8]);
    assert.deepEqual(wn.federation!.compressions, [1]);

    const to = (await old.task(1)).envelope.task!;
    const tn = (await neu.task(1)).envelope.task!;
    const n = to.predictIndices!.length;
    assert.equal(tn.predictIndices!.length, n);
    // old: plain uint8, mass on class 3.
    assert.equal((await old.reply(old.upload(1, n, { label: 3 }))).body, 'ack');
    // new: soft2 of rows with mass on class 7, raw-deflated.
    const soft2 = encodePredictions(predictions(n, 10, 7), n, 10, 'soft2');
    const packed = deflateRawSync(soft2);
    const seq = neu.send({
      predictions: { round: 1, encoding: 7, rows: n, classes: 10, payload: packed, compression: 1 },
    });
    const ack = await neu.reply(seq);
    assert.equal(ack.body, 'ack', JSON.stringify(ack.envelope.error));
    assert.equal(Number(ack.envelope.ack!.bytesAccepted), packed.length, 'the bytes that travelled');

    // Round 2: each gets the other's predictions, in its own target encoding.
    const t2o = (await old.task(2)).envelope.task!.targets!;
    assert.deepEqual([t2o.encoding, t2o.compression ?? 0], [3, 0]);
    const vo = validateTargets(t2o, { classes: 10 });
    assert.ok(vo.ok);
    // soft2 of (0.9, 0.0111…) is q = (3, 0): decoded one-hot on class 7, as uint8 255 there.
    assert.equal(t2o.payload![7], 255);
    const t2n = (await neu.task(2)).envelope.task!.targets!;
    assert.deepEqual([t2n.encoding, t2n.compression], [9, 1]);
    assert.equal(
      validateTargets(t2n, { classes: 10 }).ok,
      false,
      'compressed targets must be inflated first',
    );
    const inflated = inflateRawSync(t2n.payload!);
    const hard = decodePredictions(inflated, n, 10, 'hard');
    for (let r = 0; r < n; r++)
      assert.equal(hard[r * 10 + 3], 1, `row ${r} is one-hot on the old one's class`);
  });

  it('bad low-bit and compressed payloads get coded errors and the connection carries on', async (t) => {
    const { wsUrl, app } = await startServer(t, { database });
    const fed = await createFederation(app, {
      ...SETTINGS,
      sync: { quorum: 1 },
      encodings: ['hard', 'soft2', 'uint8'],
    });
    const c = await TestClient.connect(wsUrl);
    const old = await TestClient.connect(wsUrl);
    t.after(() => {
      c.close();
      old.close();
    });
    await c.hello({ joinToken: fed.token, supportedEncodings: [9, 7, 3], supportedCompressions: [1] });
    const n = (await c.task(1)).envelope.task!.predictIndices!.length; // 16 rows
    const up = (payload: Uint8Array, encoding: number, compression = 0) =>
      c.send({ predictions: { round: 1, encoding, rows: n, classes: 10, payload, compression } });
    const bad = async (seq: number, code: number, detail: string) => {
      const e = await c.error(code, seq);
      assert.equal(e.detail, detail);
      assert.equal(e.fatal, false);
    };
    // hard: 16 rows x 4 bits = 8 bytes; class 10 (0x0a) is out of range.
    await bad(up(new Uint8Array(8).fill(0x0a), 9), 21, 'PAYLOAD_CLASS_INDEX');
    await bad(up(new Uint8Array(7), 9), 21, 'PAYLOAD_LENGTH_MISMATCH');
    // soft2: 160 values x 2 bits = 40 bytes, an all-zero row.
    await bad(up(new Uint8Array(40), 7), 21, 'PAYLOAD_ROW_SUM');
    // a bomb: 64 MiB of zeros deflate to ~64 KB; only 9 bytes may come out.
    await bad(up(deflateRawSync(new Uint8Array(64 << 20)), 9, 1), 21, 'PAYLOAD_INFLATE');
    await bad(up(Uint8Array.of(1, 2, 3, 4, 5), 9, 1), 21, 'PAYLOAD_INFLATE');
    await bad(up(new Uint8Array(8), 9, 7), 22, 'COMPRESSION');
    // An encoding the federation does not accept.
    await bad(up(new Uint8Array(80), 8), 22, '');
    // Still admitted and able to contribute: plain and compressed hard labels are accepted.
    const good = encodePredictions(predictions(n, 10, 2), n, 10, 'hard');
    assert.equal((await c.reply(up(deflateRawSync(good), 9, 1))).body, 'ack');

    // A participant that did not offer compression cannot use it.
    await old.hello({ joinToken: fed.token, supportedEncodings: OLD_ENCODINGS });
    await old.task(1);
    const seq = old.send({
      predictions: {
        round: 2,
        encoding: 3,
        rows: n,
        classes: 10,
        payload: deflateRawSync(new Uint8Array(160)),
        compression: 1,
      },
    });
    const e = await old.error(22, seq);
    assert.equal(e.detail, 'COMPRESSION');
  });
});
