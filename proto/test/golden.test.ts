/**
 * Golden bytes: one representative envelope per body type, its exact encoding written out
 * here. A change to the .proto or to the generator that alters the bytes on the wire fails
 * this test; an intended change updates the hex (and PROTOCOL.md's worked example) knowingly.
 *
 * Payloads are written as literal bytes too (not produced by the prediction codecs), so this
 * file pins the envelope format alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BodyName, decodeFrame, type EnvelopeInit, encodeEnvelope } from '../src/index.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

interface Golden {
  body: BodyName;
  msg: EnvelopeInit;
  hex: string;
}

const GOLDEN: Record<string, Golden> = {
  hello: {
    body: 'hello',
    msg: {
      seq: 1,
      hello: {
        protocolVersion: 1,
        joinToken: 'jt_abc',
        name: 'node-a',
        kind: 1,
        modelArch: 'mlp',
        inputShape: [28, 28, 1],
        numClasses: 10,
        supportedEncodings: [1, 2, 3, 4],
        clientVersion: '0.1.0',
      },
    },
    hex: '0801522d080112066a745f61626322066e6f64652d61280132036d6c703a031c1c01400a4a04010203045205302e312e30',
  },
  predictions: {
    body: 'predictions',
    msg: {
      seq: 5,
      predictions: {
        round: 3,
        encoding: 3, // uint8: rows (0.75, 0.25) and (0.125, 0.875) in 255ths
        rows: 2,
        classes: 2,
        payload: hex('bf4020df'),
        metrics: { trainLoss: 0.5, trainAccuracy: 0.875, samples: 600, trainMs: 1200 },
      },
    },
    hex: '08055a2808031003180220023204bf4020df3a1809000000000000e03f11000000000000ec3f28d80430b009',
  },
  weights: {
    body: 'weights',
    msg: {
      seq: 6,
      weights: {
        round: 2,
        encoding: 1,
        count: 2,
        payload: hex('0000803f000000c0'), // float32 1, -2
        numSamples: 600,
        modelSignature: 'sig1',
      },
    },
    hex: '0806621908021001180222080000803f000000c028d804320473696731',
  },
  metrics: {
    body: 'metrics',
    msg: {
      seq: 7,
      metrics: { round: 3, metrics: { valAccuracy: 0.5, testAccuracy: 0.25, hasTestAccuracy: true } },
    },
    hex: '08076a180803121419000000000000e03f39000000000000d03f4001',
  },
  taskRequest: {
    body: 'taskRequest',
    msg: { seq: 8, taskRequest: { lastRound: 2 } },
    hex: '080872020802',
  },
  leave: {
    body: 'leave',
    msg: { seq: 9, leave: { reason: 'done' } },
    hex: '08097a060a04646f6e65',
  },
  welcome: {
    body: 'welcome',
    msg: {
      seq: 1,
      replyTo: 1,
      welcome: {
        participantId: 'p1',
        resumeToken: 'rt_xyz',
        federation: {
          federationId: 'f1',
          name: 'demo',
          task: { inputShape: [28, 28, 1], numClasses: 10 },
          strategy: 1,
          mode: 2,
          temperature: 2,
          lambda: 1,
          aggregation: 1,
          batchSize: 512,
          encodings: [3, 1],
          topk: 3,
          async: { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 8 },
          localEpochs: 1,
        },
        publicSet: {
          id: 'ab',
          sha256: new Uint8Array(32).fill(0xab),
          sampleCount: 10000,
          shape: [28, 28, 1],
          byteLength: 7840016,
          url: '/v1/public-sets/ab',
          format: 'mutua-public-v1',
        },
        uploadEncoding: 3,
        downloadEncoding: 3,
        heartbeatIntervalMs: 15000,
        maxFrameBytes: 1048576,
        currentRound: 4,
      },
    },
    hex:
      '08011001a201ba010a027031120672745f78797a22450a026631120464656d6f1a070a031c1c01100a200128023100000000' +
      '0000004039000000000000f03f40014880045202030158036a0d080211000000000000e03f180870012a580a0261621220' +
      'ab'.repeat(32) + // public_set.sha256
      '18904e22031c1c012890c2de0332122f76312f7075626c69632d736574732f61623a0f6d757475612d7075626c69632d7631' +
      '30033803409875488080405004',
  },
  task: {
    body: 'task',
    msg: {
      seq: 2,
      task: {
        round: 4,
        mode: 2,
        predictIndices: [7, 300],
        targets: {
          version: 3,
          indices: [1, 2],
          encoding: 4, // topk, k = 1, C = 2: (class 0, 191/255), (class 1, 223/255)
          rows: 2,
          classes: 2,
          k: 1,
          payload: hex('00bf01df'),
          contributors: 2,
        },
        localEpochs: 1,
      },
    },
    hex: '0802aa0123080410021a0307ac02221608031202010218042002280230013a0400bf01df40023801',
  },
  targets: {
    body: 'targets',
    msg: {
      seq: 3,
      targets: {
        version: 5,
        indices: [0, 1],
        encoding: 2, // float16 0.75 0.25 0.125 0.875
        rows: 2,
        classes: 2,
        payload: hex('003a00340030003b'),
        contributors: 3,
      },
    },
    hex: '0803b201180805120200011802200228023a08003a00340030003b4003',
  },
  ack: {
    body: 'ack',
    msg: { seq: 4, replyTo: 5, ack: { round: 3, staleness: 1, weight: 0.5, bytesAccepted: 4 } },
    hex: '08041005ba010f0803180121000000000000e03f2804',
  },
  roundClosed: {
    body: 'roundClosed',
    msg: { seq: 5, roundClosed: { round: 3, submissions: 4, reason: 'quorum' } },
    hex: '0805c2010c080310041a0671756f72756d',
  },
  error: {
    body: 'error',
    msg: { seq: 6, replyTo: 5, error: { code: 21, message: 'bad', fatal: false, detail: 'PAYLOAD_ROW_SUM' } },
    hex: '08061005ca011808151203626164320f5041594c4f41445f524f575f53554d',
  },
  heartbeat: {
    body: 'heartbeat',
    msg: { seq: 10, heartbeat: { unixMs: 1700000000000 } },
    hex: '080af201070880d095ffbc31',
  },
  fedavgTask: {
    body: 'task',
    msg: {
      seq: 11,
      task: {
        round: 2,
        mode: 1,
        globalWeights: {
          round: 1,
          encoding: 1,
          count: 2,
          payload: hex('0000003f0000803f'), // float32 0.5, 1
          modelSignature: 'sig1',
        },
        deadlineUnixMs: 1700000060000,
        localEpochs: 2,
      },
    },
    hex: '080baa0125080210012a1608011001180222080000003f0000803f2a047369673130e0a499ffbc313802',
  },
  weightsUint8: {
    body: 'weights',
    msg: {
      seq: 6,
      weights: {
        round: 2,
        encoding: 5, // ENCODING_UINT8_AFFINE: 1 segment (length 3, min -2, scale 3/255), bytes 255 0 170
        count: 3,
        payload: hex('0100000003000000000000c0c1c0403cff00aa'), // 1, -2, 0
        numSamples: 600,
        modelSignature: 'sig1',
      },
    },
    hex: '0806622408021005180322130100000003000000000000c0c1c0403cff00aa28d804320473696731',
  },
  fedavgTaskUint8: {
    body: 'task',
    msg: {
      seq: 12,
      task: {
        round: 2,
        mode: 1,
        globalWeights: {
          round: 1,
          encoding: 5,
          count: 3,
          payload: hex('0100000003000000000000c0c1c0403cff00aa'),
          modelSignature: 'sig1',
        },
        localEpochs: 2,
      },
    },
    hex: '080caa0129080210012a2108011005180322130100000003000000000000c0c1c0403cff00aa2a04736967313802',
  },
  fedavgWelcome: {
    body: 'welcome',
    // A fedavg Welcome: 8-bit weights both ways; upload_encoding float16 for older clients.
    msg: {
      seq: 2,
      replyTo: 1,
      welcome: { participantId: 'p1', uploadEncoding: 2, weightEncoding: 5, currentRound: 3 },
    },
    hex: '08021001a2010a0a027031300250035805',
  },
};

/** Every field of `expected` (recursively) equals the decoded one; absent proto3 defaults read as 0/''/false. */
function assertFields(actual: unknown, expected: unknown, path: string): void {
  if (expected instanceof Uint8Array) {
    assert.ok(actual instanceof Uint8Array, `${path} is bytes`);
    assert.equal(Buffer.from(actual).toString('hex'), Buffer.from(expected).toString('hex'), path);
  } else if (Array.isArray(expected)) {
    assert.deepEqual([...(actual as unknown[])], expected, path);
  } else if (typeof expected === 'object' && expected !== null) {
    assert.equal(typeof actual, 'object', `${path} is a message`);
    for (const [key, value] of Object.entries(expected)) {
      assertFields((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
  } else {
    assert.equal(actual, expected, path);
  }
}

describe('golden bytes', () => {
  it('covers every body type', () => {
    const covered = new Set(Object.values(GOLDEN).map((g) => g.body));
    for (const body of [
      'hello',
      'predictions',
      'weights',
      'metrics',
      'taskRequest',
      'leave',
      'welcome',
      'task',
      'targets',
      'ack',
      'roundClosed',
      'error',
      'heartbeat',
    ] as const) {
      assert.ok(covered.has(body), body);
    }
  });

  for (const [name, g] of Object.entries(GOLDEN)) {
    it(`${name}: encodes to the golden bytes`, () => {
      assert.equal(Buffer.from(encodeEnvelope(g.msg)).toString('hex'), g.hex);
    });

    it(`${name}: the golden bytes decode to the same fields`, () => {
      const r = decodeFrame(hex(g.hex), { maxFrameBytes: 1 << 20 });
      assert.ok(r.ok, r.ok ? '' : r.error.message);
      assert.equal(r.body, g.body);
      assertFields(r.envelope, g.msg, 'envelope');
    });
  }

  it('omits proto3 defaults: an Ack with duplicate=false and weight=0 has no such fields', () => {
    const bytes = encodeEnvelope({ seq: 1, ack: { round: 1, duplicate: false, weight: 0 } });
    assert.equal(Buffer.from(bytes).toString('hex'), '0801ba01020801');
  });

  it('reads repeated scalars both packed and unpacked, as protobuf requires', () => {
    // Task.predict_indices = [7, 300]: packed (1a 03 07 ac 02) and unpacked (18 07 18 ac 02).
    const packed = decodeFrame(hex('0802aa01051a0307ac02'), { maxFrameBytes: 100 });
    assert.ok(packed.ok);
    assert.deepEqual(packed.envelope.task?.predictIndices, [7, 300]);
    const unpacked = decodeFrame(hex('0802aa0105180718ac02'), { maxFrameBytes: 100 });
    assert.ok(unpacked.ok);
    assert.deepEqual(unpacked.envelope.task?.predictIndices, [7, 300]);
  });
});
