import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BodyName,
  decodeFrame,
  type EnvelopeInit,
  ERROR_POLICY,
  ErrorCode,
  encodeEnvelope,
  encodePredictions,
  errorCodeName,
  errorEnvelope,
  type PredictionUploadInit,
  ProtocolError,
  protocolErrorFromBody,
  validatePredictionUpload,
} from '../src/index.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const OPTS = { maxFrameBytes: 1 << 20 };

/** mulberry32: seeded, so a failing fuzz case reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rejects(data: Parameters<typeof decodeFrame>[0], code: string, detail?: string, opts = OPTS) {
  const r = decodeFrame(data, opts);
  assert.equal(r.ok, false, 'expected a rejection');
  if (r.ok) return undefined as never;
  assert.ok(r.error instanceof ProtocolError);
  assert.equal(r.error.code, code, r.error.message);
  if (detail !== undefined) assert.equal(r.error.detail, detail, r.error.message);
  assert.ok(r.error.message.length > 10, 'a message a person can act on');
  return r;
}

const probs = Float32Array.of(0.75, 0.25, 0.125, 0.875);
const VALID: EnvelopeInit[] = [
  {
    seq: 5,
    predictions: {
      round: 3,
      encoding: 3,
      rows: 2,
      classes: 2,
      payload: encodePredictions(probs, 2, 2, 'uint8'),
    },
  },
  {
    seq: 1,
    hello: {
      protocolVersion: 1,
      joinToken: 'jt',
      name: 'n',
      inputShape: [28, 28, 1],
      numClasses: 10,
      supportedEncodings: [1, 3],
    },
  },
  {
    seq: 2,
    task: {
      round: 4,
      mode: 2,
      predictIndices: [7, 300, 9999],
      targets: {
        version: 3,
        indices: [1, 2],
        encoding: 1,
        rows: 2,
        classes: 2,
        payload: encodePredictions(probs, 2, 2, 'float32'),
      },
    },
  },
  { seq: 3, ack: { round: 3, duplicate: true, staleness: 2, weight: 0.25, bytesAccepted: 1234567 } },
  { seq: 4, error: { code: 23, message: 'round 3 is closed', fatal: false, detail: 'x' } },
  { seq: 6, heartbeat: { unixMs: Date.UTC(2026, 0, 1), reply: true } },
];
const VALID_FRAMES = VALID.map(encodeEnvelope);

describe('decodeFrame: accepted frames', () => {
  it('accepts Uint8Array, Buffer, ArrayBuffer and fragmented Buffer[]', () => {
    const bytes = VALID_FRAMES[0]!;
    const ab = new Uint8Array(bytes).buffer; // a copy: encodeEnvelope may return a pooled Buffer
    const parts = [
      Buffer.from(bytes.subarray(0, 3)),
      Buffer.from(bytes.subarray(3, 10)),
      Buffer.from(bytes.subarray(10)),
    ];
    for (const data of [bytes, Buffer.from(bytes), ab, parts]) {
      const r = decodeFrame(data, { ...OPTS, isBinary: true });
      assert.ok(r.ok);
      assert.equal(r.body, 'predictions');
      assert.equal(r.envelope.seq, 5);
    }
  });

  it('returns uint64 fields as numbers, not Long objects', () => {
    const r = decodeFrame(VALID_FRAMES[3]!, OPTS);
    assert.ok(r.ok && r.body === 'ack');
    assert.equal(r.envelope.ack.round, 3);
    assert.equal(typeof r.envelope.ack.bytesAccepted, 'number');
    assert.equal(r.envelope.ack.bytesAccepted, 1234567);
    const hb = decodeFrame(VALID_FRAMES[5]!, OPTS);
    assert.ok(hb.ok && hb.body === 'heartbeat');
    assert.equal(hb.envelope.heartbeat.unixMs, Date.UTC(2026, 0, 1));
  });

  it('rejects a uint64 above 2^53 - 1 instead of rounding it', () => {
    // Ack{round = 2^53}: varint 80 80 80 80 80 80 80 10
    rejects(hex('0801ba0109088080808080808010'), 'BAD_FRAME', 'UINT64_RANGE');
    const max = decodeFrame(hex('0801ba010908ffffffffffffff0f'), OPTS);
    assert.ok(max.ok && max.body === 'ack');
    assert.equal(max.envelope.ack.round, Number.MAX_SAFE_INTEGER);
  });

  it('skips unknown field numbers with valid wire types at every level (forward compatibility)', () => {
    const base = VALID_FRAMES[0]!;
    // Append to the Envelope: field 99 varint 1, field 100 bytes "hi", field 101 fixed32, field 102 fixed64.
    const extra = hex('980601' + 'a206026869' + 'ad0601020304' + 'b1060102030405060708');
    const withExtra = new Uint8Array([...base, ...extra]);
    const r = decodeFrame(withExtra, OPTS);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.body, 'predictions');
    assert.equal(r.envelope.predictions.rows, 2);
    // Inside a nested message: PredictionUpload gets field 50 (varint 7) appended.
    const inner = encodeEnvelope({ seq: 1, predictions: { rows: 2 } }); // 08 01 5a 02 18 02
    assert.equal(toHex(inner), '08015a021802');
    const nested = decodeFrame(hex('08015a05' + '1802' + '900307'), OPTS);
    assert.ok(nested.ok && nested.body === 'predictions');
    assert.equal(nested.envelope.predictions.rows, 2);
  });

  it('lets the last body win when two are present, as protobuf oneof semantics say', () => {
    const twoBodies = hex('0801' + '7a00' + '72020802'); // leave{} then taskRequest{last_round=2}
    const r = decodeFrame(twoBodies, OPTS);
    assert.ok(r.ok);
    assert.equal(r.body, 'taskRequest');
    assert.equal(r.envelope.leave == null, true);
  });
});

describe('decodeFrame: malformed frames and their codes', () => {
  it('text frame -> BAD_FRAME, closing with 1003', () => {
    const r = rejects('{"hello":{}}', 'BAD_FRAME', 'TEXT_FRAME');
    assert.equal(r.error.closeCode, 1003);
    assert.equal(r.error.fatal, true);
    const ws = decodeFrame(Buffer.from('hello'), { ...OPTS, isBinary: false });
    assert.ok(!ws.ok && ws.error.detail === 'TEXT_FRAME');
  });

  it('oversized frame -> FRAME_TOO_LARGE (1009), judged before decoding', () => {
    const r = rejects(VALID_FRAMES[0]!, 'FRAME_TOO_LARGE', undefined, { maxFrameBytes: 10 });
    assert.equal(r.error.closeCode, 1009);
    assert.match(r.error.message, /exceeds the maximum of 10 bytes/);
    // Garbage that would be BAD_FRAME is FRAME_TOO_LARGE when too big: size is checked first.
    rejects(new Uint8Array(11).fill(0xff), 'FRAME_TOO_LARGE', undefined, { maxFrameBytes: 10 });
    const parts = [Buffer.alloc(6), Buffer.alloc(6)];
    rejects(parts, 'FRAME_TOO_LARGE', undefined, { maxFrameBytes: 10 });
    assert.ok(
      decodeFrame(VALID_FRAMES[0]!, { maxFrameBytes: VALID_FRAMES[0]!.length }).ok,
      'exactly the max is fine',
    );
  });

  it('truncated frame -> BAD_FRAME TRUNCATED', () => {
    const frame = VALID_FRAMES[0]!;
    rejects(frame.subarray(0, frame.length - 1), 'BAD_FRAME', 'TRUNCATED');
    rejects(hex('08'), 'BAD_FRAME', 'TRUNCATED'); // tag without its varint
    rejects(hex('0801ba0109'), 'BAD_FRAME', 'TRUNCATED'); // length 9, nothing follows
    rejects(hex('0801ba01024d00'), 'BAD_FRAME', 'TRUNCATED'); // Ack, unknown field 9 with a cut fixed32
  });

  it('every strict prefix of a valid frame is rejected or decodes to less, never throws', () => {
    for (const frame of VALID_FRAMES) {
      for (let cut = 0; cut < frame.length; cut++) {
        const r = decodeFrame(frame.subarray(0, cut), OPTS);
        if (r.ok) assert.notDeepEqual(toHex(encodeEnvelope(r.envelope)), toHex(frame));
        else assert.ok(['BAD_FRAME', 'EMPTY_BODY'].includes(r.error.code));
      }
    }
  });

  it('known field with the wrong wire type -> BAD_FRAME WRONG_WIRE_TYPE', () => {
    rejects(hex('0a00'), 'BAD_FRAME', 'WRONG_WIRE_TYPE'); // seq as length-delimited
    rejects(hex('0801' + '5801'), 'BAD_FRAME', 'WRONG_WIRE_TYPE'); // predictions as a varint
    const r = rejects(hex('08015a05' + '1d02000000'), 'BAD_FRAME', 'WRONG_WIRE_TYPE'); // rows as fixed32
    assert.match(r.error.message, /PredictionUpload\.rows \(field 3\) arrived with wire type 5/);
  });

  it('invalid and group wire types, field 0, overlong varints -> BAD_FRAME', () => {
    rejects(hex('0e01'), 'BAD_FRAME', 'INVALID_WIRE_TYPE'); // field 1, wire type 6
    rejects(hex('0f01'), 'BAD_FRAME', 'INVALID_WIRE_TYPE'); // wire type 7
    rejects(hex('0b0c'), 'BAD_FRAME', 'GROUP'); // start group
    rejects(hex('0c'), 'BAD_FRAME', 'GROUP'); // end group
    rejects(hex('0001'), 'BAD_FRAME', 'FIELD_ZERO');
    rejects(hex(`08${'ff'.repeat(10)}01`), 'BAD_FRAME', 'VARINT_TOO_LONG');
    rejects(hex('f8ffffff7f00'), 'BAD_FRAME', 'BAD_TAG'); // tag above 32 bits
    rejects(hex('888080808000'), 'BAD_FRAME', 'VARINT_TOO_LONG'); // tag padded to 6 bytes
  });

  it('bad packed runs and invalid UTF-8 -> BAD_FRAME', () => {
    // Task.predict_indices packed, 2 bytes whose last varint is cut: aa01 04 1a 02 07 ac
    rejects(hex('0802aa01041a0207ac'), 'BAD_FRAME', 'BAD_PACKED');
    // Leave.reason = ff fe
    rejects(hex('08097a040a02fffe'), 'BAD_FRAME', 'BAD_UTF8');
    const okUtf8 = decodeFrame(encodeEnvelope({ seq: 1, leave: { reason: 'fertig – ünd 🎉' } }), OPTS);
    assert.ok(okUtf8.ok && okUtf8.body === 'leave');
    assert.equal(okUtf8.envelope.leave.reason, 'fertig – ünd 🎉');
  });

  it('garbage bytes -> BAD_FRAME', () => {
    rejects(new Uint8Array(16).fill(0xff), 'BAD_FRAME');
    rejects(Uint8Array.from(Buffer.from('GET / HTTP/1.1\r\n')), 'BAD_FRAME');
  });

  it('no body -> EMPTY_BODY, non-fatal, replying to the seq', () => {
    const r = rejects(hex('0805'), 'EMPTY_BODY');
    assert.equal(r.replyTo, 5);
    assert.equal(r.error.fatal, false);
    assert.equal(rejects(new Uint8Array(0), 'EMPTY_BODY').replyTo, 0);
    // A body type from a newer protocol (field 40) is skipped, leaving no body.
    assert.equal(rejects(hex('0807c20200'), 'EMPTY_BODY').replyTo, 7);
  });

  it('non-binary data -> BAD_FRAME', () => {
    rejects([Buffer.alloc(1), 'x' as unknown as Uint8Array], 'BAD_FRAME', 'NOT_BINARY');
    rejects(42 as unknown as Uint8Array, 'BAD_FRAME', 'NOT_BINARY');
  });
});

describe('frame -> decodeFrame -> validatePredictionUpload: bad payloads and their codes', () => {
  const TASK = {
    rows: 2,
    classes: 3,
    allowedEncodings: ['float32', 'float16', 'uint8', 'topk'] as const,
    maxK: 2,
  };

  function f32(values: number[]): Uint8Array {
    return new Uint8Array(Float32Array.from(values).buffer);
  }

  /** The upload goes through the wire first, as it would from a peer. */
  function upload(p: PredictionUploadInit) {
    const r = decodeFrame(
      encodeEnvelope({ seq: 9, predictions: { round: 1, rows: 2, classes: 3, ...p } }),
      OPTS,
    );
    assert.ok(r.ok && r.body === 'predictions');
    return validatePredictionUpload(r.envelope.predictions, TASK);
  }

  function rejected(p: PredictionUploadInit, code: string, detail?: string): ProtocolError {
    const r = upload(p);
    assert.equal(r.ok, false, 'expected a rejection');
    if (r.ok) return undefined as never;
    assert.equal(r.error.code, code, r.error.message);
    if (detail !== undefined) assert.equal(r.error.detail, detail, r.error.message);
    assert.equal(r.error.fatal, false, 'submission errors keep the connection');
    return r.error;
  }

  const good = [0.5, 0.25, 0.25, 0.1, 0.2, 0.7];

  it('accepts a valid float32 upload and returns the probabilities', () => {
    const r = upload({ encoding: 1, payload: f32(good) });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.deepEqual(Array.from(r.value), Array.from(Float32Array.from(good)));
  });

  it('wrong payload length -> BAD_PAYLOAD PAYLOAD_LENGTH_MISMATCH', () => {
    rejected({ encoding: 1, payload: f32(good).subarray(0, 20) }, 'BAD_PAYLOAD', 'PAYLOAD_LENGTH_MISMATCH');
    rejected({ encoding: 3, payload: new Uint8Array(7) }, 'BAD_PAYLOAD', 'PAYLOAD_LENGTH_MISMATCH');
    rejected({ encoding: 1 }, 'BAD_PAYLOAD', 'PAYLOAD_LENGTH_MISMATCH');
  });

  it('NaN or Infinity in a float32 payload -> BAD_PAYLOAD PAYLOAD_NON_FINITE', () => {
    rejected(
      { encoding: 1, payload: f32([Number.NaN, 0.5, 0.5, 0.1, 0.2, 0.7]) },
      'BAD_PAYLOAD',
      'PAYLOAD_NON_FINITE',
    );
    rejected(
      { encoding: 1, payload: f32([0.5, 0.25, 0.25, 0.1, Number.POSITIVE_INFINITY, 0.7]) },
      'BAD_PAYLOAD',
      'PAYLOAD_NON_FINITE',
    );
  });

  it('probabilities outside [0, 1] -> BAD_PAYLOAD PAYLOAD_PROB_RANGE', () => {
    rejected(
      { encoding: 1, payload: f32([1.5, -0.25, -0.25, 0.1, 0.2, 0.7]) },
      'BAD_PAYLOAD',
      'PAYLOAD_PROB_RANGE',
    );
  });

  it('rows not summing to 1 -> BAD_PAYLOAD PAYLOAD_ROW_SUM', () => {
    rejected(
      { encoding: 1, payload: f32([0.5, 0.25, 0.2, 0.1, 0.2, 0.7]) },
      'BAD_PAYLOAD',
      'PAYLOAD_ROW_SUM',
    );
    rejected(
      { encoding: 3, payload: Uint8Array.of(100, 100, 54, 85, 85, 85) },
      'BAD_PAYLOAD',
      'PAYLOAD_ROW_SUM',
    );
  });

  it('top-k class index out of range -> BAD_PAYLOAD PAYLOAD_TOPK_INDEX', () => {
    // k = 1, C = 3, one-byte indices: (class 3, 200/255) is out of range in row 0.
    rejected(
      { encoding: 4, k: 1, payload: Uint8Array.of(3, 200, 0, 200) },
      'BAD_PAYLOAD',
      'PAYLOAD_TOPK_INDEX',
    );
    rejected(
      { encoding: 4, k: 2, payload: Uint8Array.of(1, 100, 1, 100, 0, 1, 2, 1) },
      'BAD_PAYLOAD',
      'PAYLOAD_TOPK_INDEX',
    );
  });

  it('shape disagreeing with the task -> BAD_SHAPE', () => {
    const e = rejected({ rows: 3, encoding: 1, payload: f32([...good, 1, 0, 0]) }, 'BAD_SHAPE', 'ROWS');
    assert.match(e.message, /rows is 3 but the task has 2/);
    rejected({ classes: 2, encoding: 1, payload: f32([0.5, 0.5, 0.5, 0.5]) }, 'BAD_SHAPE', 'CLASSES');
    rejected({ encoding: 4, k: 3, payload: new Uint8Array(12) }, 'BAD_SHAPE', 'TOPK_K'); // maxK = 2
    rejected({ encoding: 4, k: 0, payload: new Uint8Array(0) }, 'BAD_SHAPE', 'TOPK_K');
  });

  it('encoding unknown or not accepted -> ENCODING_NOT_ALLOWED', () => {
    rejected({ encoding: 0, payload: f32(good) }, 'ENCODING_NOT_ALLOWED');
    rejected({ encoding: 9 as never, payload: f32(good) }, 'ENCODING_NOT_ALLOWED');
    const only8 = validatePredictionUpload(
      { rows: 2, classes: 3, encoding: 1, payload: f32(good) },
      { ...TASK, allowedEncodings: ['uint8'] },
    );
    assert.ok(!only8.ok && only8.error.code === 'ENCODING_NOT_ALLOWED');
    assert.match(only8.error.message, /accepted: uint8/);
  });

  it('non-finite metrics -> BAD_PAYLOAD METRICS_NON_FINITE', () => {
    rejected(
      { encoding: 1, payload: f32(good), metrics: { trainLoss: Number.NaN } },
      'BAD_PAYLOAD',
      'METRICS_NON_FINITE',
    );
    rejected(
      { encoding: 1, payload: f32(good), metrics: { valAccuracy: 1.5 } },
      'BAD_PAYLOAD',
      'METRICS_RANGE',
    );
  });
});

describe('decodeFrame fuzz: never throws, always a coded answer', () => {
  function check(data: Uint8Array): void {
    let r: ReturnType<typeof decodeFrame>;
    try {
      r = decodeFrame(data, { maxFrameBytes: 4096 });
    } catch (e) {
      assert.fail(`decodeFrame threw on ${toHex(data)}: ${String(e)}`);
    }
    if (r.ok) {
      // Whatever decodes re-encodes and decodes again to the same bytes.
      const again = encodeEnvelope(r.envelope);
      const r2 = decodeFrame(again, { maxFrameBytes: 1 << 20 });
      assert.ok(r2.ok, `re-encoding of ${toHex(data)} does not decode`);
      assert.equal(toHex(encodeEnvelope(r2.envelope)), toHex(again));
    } else {
      assert.ok(r.error.code in ERROR_POLICY);
      // BAD_FRAME always comes from the strict check (it has a detail), never from a
      // protobufjs exception the check missed.
      if (r.error.code === 'BAD_FRAME')
        assert.notEqual(r.error.detail, '', `${toHex(data)}: ${r.error.message}`);
    }
  }

  it('10,000 random byte strings', () => {
    const rand = rng(1);
    for (let i = 0; i < 10_000; i++) {
      const len = i < 5000 ? Math.floor(rand() * 24) : Math.floor(rand() * 600);
      const data = new Uint8Array(len);
      for (let j = 0; j < len; j++) data[j] = Math.floor(rand() * 256);
      check(data);
    }
  });

  it('10,000 random mutations of valid frames', () => {
    const rand = rng(2);
    for (let i = 0; i < 10_000; i++) {
      const frame = VALID_FRAMES[i % VALID_FRAMES.length]!;
      const bytes = Array.from(frame);
      const edits = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (bytes.length + 1));
        const op = rand();
        if (op < 0.4 && bytes.length > 0) bytes[at % bytes.length] = Math.floor(rand() * 256);
        else if (op < 0.6 && bytes.length > 0) bytes[at % bytes.length]! ^= 1 << Math.floor(rand() * 8);
        else if (op < 0.8) bytes.splice(at, 0, Math.floor(rand() * 256));
        else if (op < 0.9) bytes.splice(at, 1);
        else bytes.length = at;
      }
      check(Uint8Array.from(bytes));
    }
  });
});

describe('encodeEnvelope', () => {
  it('needs exactly one body', () => {
    assert.throws(() => encodeEnvelope({ seq: 1 }), TypeError);
    assert.throws(() => encodeEnvelope({ seq: 1, leave: {}, heartbeat: {} }), TypeError);
  });
});

describe('errors', () => {
  it('every ErrorCode has a policy, and every policy names an ErrorCode', () => {
    const names = Object.keys(ErrorCode).filter((k) => Number.isNaN(Number(k)));
    assert.deepEqual(new Set(Object.keys(ERROR_POLICY)), new Set(names));
    for (const name of names) {
      const p = ERROR_POLICY[name as keyof typeof ERROR_POLICY];
      assert.ok(
        p.closeCode === 1001 ||
          (p.closeCode >= 1002 && p.closeCode <= 1011) ||
          (p.closeCode >= 4000 && p.closeCode < 5000),
      );
    }
  });

  it('close codes of fatal errors are distinct per meaning', () => {
    const fatal = Object.entries(ERROR_POLICY).filter(([, p]) => p.fatal && p.closeCode >= 4000);
    const codes = fatal.map(([, p]) => p.closeCode);
    assert.equal(new Set(codes).size, codes.length);
  });

  it('suggested policy: framing and auth fatal, submissions not', () => {
    for (const c of [
      'BAD_FRAME',
      'FRAME_TOO_LARGE',
      'BAD_TOKEN',
      'TOKEN_REVOKED',
      'FEDERATION_NOT_FOUND',
    ] as const) {
      assert.equal(ERROR_POLICY[c].fatal, true, c);
    }
    for (const c of [
      'BAD_SHAPE',
      'BAD_PAYLOAD',
      'ENCODING_NOT_ALLOWED',
      'STALE_ROUND',
      'TOO_STALE',
      'EMPTY_BODY',
    ] as const) {
      assert.equal(ERROR_POLICY[c].fatal, false, c);
    }
    assert.equal(ERROR_POLICY.FRAME_TOO_LARGE.closeCode, 1009);
    assert.equal(ERROR_POLICY.SHUTTING_DOWN.closeCode, 1001);
    assert.equal(ERROR_POLICY.BAD_TOKEN.closeCode, 4001);
  });

  it('errorEnvelope encodes, and the client turns it back into the same ProtocolError', () => {
    const err = new ProtocolError('BAD_PAYLOAD', 'row 3 sums to 0.5', { detail: 'PAYLOAD_ROW_SUM' });
    const env = errorEnvelope(err, 17, 4);
    const r = decodeFrame(encodeEnvelope(env), OPTS);
    assert.ok(r.ok && r.body === 'error');
    assert.equal(r.envelope.replyTo, 17);
    assert.equal(r.envelope.seq, 4);
    assert.equal(r.envelope.error.closeCode, 0, 'no close code when not fatal');
    const back = protocolErrorFromBody(r.envelope.error);
    assert.equal(back.code, 'BAD_PAYLOAD');
    assert.equal(back.detail, 'PAYLOAD_ROW_SUM');
    assert.equal(back.fatal, false);
    const fatal = errorEnvelope(new ProtocolError('REPLACED', 'elsewhere'));
    assert.equal(fatal.error?.closeCode, 4000);
    assert.equal(fatal.error?.fatal, true);
  });

  it('an unknown code from a newer coordinator becomes INTERNAL, keeping the number', () => {
    const e = protocolErrorFromBody({ code: 77 as never, message: 'new', fatal: true, closeCode: 4077 });
    assert.equal(e.code, 'INTERNAL');
    assert.equal(e.detail, 'UNKNOWN_CODE_77');
    assert.equal(e.fatal, true);
    assert.equal(e.closeCode, 4077);
    assert.equal(errorCodeName(77), undefined);
    assert.equal(errorCodeName(23), 'STALE_ROUND');
  });

  it('ProtocolError exposes code, wireCode, closeCode, fatal, and per-instance overrides', () => {
    const e = new ProtocolError('RATE_LIMITED', 'slow down', { retryAfterMs: 500 });
    assert.equal(e.wireCode, 30);
    assert.equal(e.fatal, false);
    assert.equal(e.closeCode, 4008);
    assert.equal(e.retryAfterMs, 500);
    assert.ok(e instanceof Error);
    const escalated = new ProtocolError('RATE_LIMITED', 'flood', { fatal: true });
    assert.equal(escalated.fatal, true);
  });
});

// Keep the BodyName type exercised: a switch over decoded bodies narrows the field.
export function bodySummary(data: Uint8Array): string {
  const r = decodeFrame(data, OPTS);
  if (!r.ok) return r.error.code;
  const env = r.envelope;
  switch (env.body) {
    case 'predictions':
      return `predictions ${env.predictions.rows}x${env.predictions.classes}`;
    case 'hello':
      return `hello ${env.hello.name}`;
    default:
      return r.body satisfies BodyName;
  }
}

it('decoded envelopes narrow by body', () => {
  assert.equal(bodySummary(VALID_FRAMES[0]!), 'predictions 2x2');
  assert.equal(bodySummary(VALID_FRAMES[1]!), 'hello n');
});
