// FedAvg weight encodings on the wire: each participant gets the federation's
// weightEncoding when it can use it (8 bits only for clients that list
// ENCODING_UINT8_AFFINE), else the next more precise one, and its global weights come
// down in that encoding; 8-bit global weights keep the tensor layout the uploads showed.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeWeights, encodeWeights, maxWeightError, weightSegmentsOf } from '@mutua/proto';
import { createFederation, describeEachDatabase, startServer } from './helper.ts';
import { TestClient } from './test-client.ts';

describeEachDatabase('WebSocket: FedAvg weight encodings', (database) => {
  it('8-bit weights both ways for clients that can, float16 for older ones', async (t) => {
    const { app, wsUrl } = await startServer(t, { database });
    const fed = await createFederation(app, {
      strategy: 'fedavg',
      mode: 'sync',
      modelArch: 'mlp',
      weightEncoding: 'uint8',
      sync: { minParticipants: 2 },
    });
    const a = await TestClient.connect(wsUrl);
    const b = await TestClient.connect(wsUrl);
    t.after(() => {
      a.close();
      b.close();
    });
    const model = { modelArch: 'mlp', modelSignature: 'sig' };
    const wa = (
      await a.hello({ joinToken: fed.token, name: 'new', ...model, supportedEncodings: [3, 2, 1, 5] })
    ).envelope.welcome!;
    assert.equal(wa.weightEncoding, 5, 'ENCODING_UINT8_AFFINE');
    const wb = (await b.hello({ joinToken: fed.token, name: 'old', ...model })).envelope.welcome!;
    assert.equal(wb.weightEncoding, 2, 'float16: the client did not list 8-bit weights');
    assert.equal(wb.uploadEncoding, 2, 'an older client reads float16 weights from upload_encoding');

    await a.task(1);
    await b.task(1);
    const segments = [6, 4];
    const mine = Float32Array.from({ length: 10 }, (_, i) => i / 10);
    const theirs = Float32Array.from({ length: 10 }, (_, i) => 1 - i / 10);
    const upload = (c: TestClient, values: Float32Array, encoding: number, payload: Uint8Array) =>
      c.reply(
        c.send({
          weights: {
            round: 1,
            encoding,
            count: values.length,
            payload,
            numSamples: 100,
            modelSignature: 'sig',
          },
        }),
      );
    const ackA = await upload(a, mine, 5, encodeWeights(mine, 'uint8', { segments }));
    assert.equal(ackA.body, 'ack');
    const ackB = await upload(b, theirs, 2, encodeWeights(theirs, 'float16'));
    assert.equal(ackB.body, 'ack');

    // The aggregate is 0.5 everywhere, up to the uploads' quantization.
    const ga = (await a.task(2)).envelope.task!.globalWeights!;
    assert.equal(ga.encoding, 5);
    assert.deepEqual(weightSegmentsOf(ga.payload!), segments, 'one scale and offset per tensor, as uploaded');
    for (const v of decodeWeights(ga.payload!, 10, 'uint8')) {
      assert.ok(Math.abs(v - 0.5) <= maxWeightError(0, 0.5) + 2 * maxWeightError(0, 1), `${v}`);
    }
    const gb = (await b.task(2)).envelope.task!.globalWeights!;
    assert.equal(gb.encoding, 2);
    assert.equal(gb.payload!.length, 20);
    for (const v of decodeWeights(gb.payload!, 10, 'float16')) assert.ok(Math.abs(v - 0.5) < 0.01, `${v}`);
  });
});
