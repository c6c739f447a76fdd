/**
 * The fuzzer's frames: a valid-looking Envelope of every body a participant can send
 * (and the coordinator-only ones, sent the wrong way), built with the generated protobuf
 * code, then mutated — bit flips, truncation, a body under the wrong oneof field, huge
 * repeated fields, wrong rounds, NaN payloads, oversized frames, deflate bombs, text
 * frames. Everything is drawn from a seeded generator, so a seed replays the same frames
 * (the coordinator's replies, and so the connection states, may still differ in timing).
 */
import { deflateRawSync } from 'node:zlib';
import {
  type BodyName,
  COORDINATOR_BODIES,
  Envelope,
  type EnvelopeInit,
  encodeEnvelope,
  PARTICIPANT_BODIES,
} from '@mutua/proto';
import protobuf from 'protobufjs/minimal.js';
import type { Rng } from './rng.ts';

/** What a fuzzing connection knows when it builds a frame. */
export interface FrameContext {
  seq: number;
  /** The newest Task round seen on this connection (0 before any). */
  round: number;
  /** Rows of that task (its predict_indices), 0 before any. */
  rows: number;
  classes: number;
  inputShape: number[];
  /** A real join token (post-auth fuzzing) or a made-up one. */
  joinToken: string;
  /** Welcome.max_frame_bytes, or the pre-auth limit before Welcome. */
  maxFrameBytes: number;
}

export interface Frame {
  /** Mutation and body, e.g. "bitflip/predictions": the progress and the report group by it. */
  kind: string;
  data: Uint8Array | string;
  binary: boolean;
  /**
   * Send as this many WebSocket fragments (continuation frames) instead of one; with
   * `unfinished` the final fragment never comes (the coordinator must not hold it forever).
   */
  fragments?: number;
  unfinished?: boolean;
}

/** Bodies a participant sends, then the coordinator's own ones (wrong direction), from @mutua/proto's lists. */
export const CLIENT_BODIES: readonly BodyName[] = [...PARTICIPANT_BODIES];
const SERVER_BODIES: readonly BodyName[] = [...COORDINATOR_BODIES].filter((b) => !PARTICIPANT_BODIES.has(b));
/** Envelope field numbers of the oneof bodies. */
const BODY_FIELD: Record<string, number> = {
  hello: 10,
  predictions: 11,
  weights: 12,
  metrics: 13,
  taskRequest: 14,
  leave: 15,
  welcome: 20,
  task: 21,
  targets: 22,
  ack: 23,
  roundClosed: 24,
  error: 25,
  heartbeat: 30,
};

/** A well-formed uint8 payload: each row sums to 255. */
function uint8Rows(rng: Rng, rows: number, classes: number): Uint8Array {
  const out = new Uint8Array(rows * classes);
  for (let r = 0; r < rows; r++) out[r * classes + rng.int(classes)] = 255;
  return out;
}

function metrics(rng: Rng) {
  return { trainLoss: rng.next(), trainAccuracy: rng.next(), samples: rng.int(1000) };
}

/** A round near the connection's own: the current one most often, else neighbours and extremes. */
function aRound(rng: Rng, ctx: FrameContext): number {
  const r = rng.int(10);
  if (r < 5) return ctx.round;
  if (r < 7) return Math.max(0, ctx.round + rng.pick([-2, -1, 1, 2]));
  return rng.pick([0, 2 ** 31 + 5, 2 ** 32, Number.MAX_SAFE_INTEGER, 999_999]);
}

/** A plausible body of the given kind (`valid` mutation sends exactly this). */
export function validBody(rng: Rng, body: string, ctx: FrameContext): Omit<EnvelopeInit, 'seq' | 'replyTo'> {
  const rows = ctx.rows || 16;
  switch (body) {
    case 'hello':
      return {
        hello: {
          protocolVersion: 1,
          joinToken: ctx.joinToken,
          name: `fuzz-${rng.int(1e6)}`,
          kind: 1,
          inputShape: ctx.inputShape,
          numClasses: ctx.classes,
          supportedEncodings: [3, 2, 1],
          supportedCompressions: [1],
          clientVersion: 'fuzz',
        },
      };
    case 'predictions':
      return {
        predictions: {
          round: aRound(rng, ctx),
          encoding: 3,
          rows,
          classes: ctx.classes,
          payload: uint8Rows(rng, rows, ctx.classes),
          metrics: metrics(rng),
        },
      };
    case 'weights':
      return {
        weights: { round: aRound(rng, ctx), encoding: 1, count: 4, payload: rng.bytes(16), numSamples: 10 },
      };
    case 'metrics':
      return { metrics: { round: aRound(rng, ctx), metrics: metrics(rng) } };
    case 'taskRequest':
      return { taskRequest: { lastRound: aRound(rng, ctx) } };
    case 'leave':
      return { leave: { reason: 'fuzz' } };
    case 'heartbeat':
      return { heartbeat: { unixMs: 1_700_000_000_000 + rng.int(1e9), reply: rng.next() < 0.2 } };
    case 'welcome':
      return { welcome: { participantId: 'x', resumeToken: 'y', currentRound: ctx.round } };
    case 'task':
      return { task: { round: ctx.round, mode: 1, predictIndices: [1, 2, 3] } };
    case 'targets':
      return {
        targets: { version: ctx.round, indices: [1], rows: 1, classes: ctx.classes, payload: rng.bytes(4) },
      };
    case 'ack':
      return { ack: { round: ctx.round, duplicate: false } };
    case 'roundClosed':
      return { roundClosed: { round: ctx.round, submissions: 3, reason: 'quorum' } };
    default:
      return { error: { code: 40, message: 'fuzz', fatal: true } };
  }
}

/** Raw Envelope bytes whose field `field` holds `inner` as a length-delimited body. */
function rawEnvelope(seq: number, field: number, inner: Uint8Array): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(8).uint32(seq);
  w.uint32((field << 3) | 2).bytes(inner);
  return w.finish();
}

/** A body's own bytes (the Envelope's length-delimited field), found by re-encoding. */
function innerBytes(body: Omit<EnvelopeInit, 'seq' | 'replyTo'>): Uint8Array {
  const whole = encodeEnvelope({ ...body });
  const r = protobuf.Reader.create(whole);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if ((tag & 7) === 2) return r.bytes();
    r.skipType(tag & 7);
  }
  return new Uint8Array(0);
}

/** A Hello (or PredictionUpload) with a packed repeated field of `count` entries. */
function hugeRepeated(rng: Rng, ctx: FrameContext, count: number): Uint8Array {
  const w = protobuf.Writer.create();
  const packed = protobuf.Writer.create();
  for (let i = 0; i < count; i++) packed.uint32(rng.int(128));
  if (rng.next() < 0.5) {
    // Hello.input_shape (7) packed
    w.uint32(8)
      .uint32(1)
      .uint32((2 << 3) | 2)
      .string(ctx.joinToken);
    w.uint32((7 << 3) | 2).bytes(packed.finish());
    return rawEnvelope(ctx.seq, 10, w.finish());
  }
  // Hello.supported_encodings (9), unpacked: one tag per element
  for (let i = 0; i < count; i++) w.uint32(9 << 3).uint32(3);
  return rawEnvelope(ctx.seq, 10, w.finish());
}

/** A deflate-raw payload that inflates far beyond any shape: a bomb the codec must stop early. */
let bombCache: Uint8Array | null = null;
function deflateBomb(): Uint8Array {
  bombCache ??= deflateRawSync(new Uint8Array(64 << 20));
  return bombCache;
}

export const MUTATIONS = [
  'valid',
  'bitflip',
  'truncate',
  'wrongOneof',
  'wrongDirection',
  'wireType',
  'badRound',
  'nanPayload',
  'shapeLie',
  'hugeRepeated',
  'oversized',
  'deflateBomb',
  'badText',
  'random',
  'empty',
  'text',
  'seqReplay',
  'fragmented',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** Relative weights: cheap malformed frames dominate; the costly ones are rare. */
const WEIGHT: Record<Mutation, number> = {
  valid: 10,
  bitflip: 20,
  truncate: 12,
  wrongOneof: 8,
  wrongDirection: 5,
  wireType: 6,
  badRound: 8,
  nanPayload: 6,
  shapeLie: 6,
  hugeRepeated: 1,
  oversized: 0.3,
  deflateBomb: 0.5,
  badText: 3,
  random: 6,
  empty: 2,
  text: 2,
  seqReplay: 3,
  fragmented: 2,
};
const TOTAL_WEIGHT = MUTATIONS.reduce((a, m) => a + WEIGHT[m], 0);

/** A mutation drawn by weight, from `only` when given. */
export function pickMutation(rng: Rng, only: readonly Mutation[] | null = null): Mutation {
  const from = only ?? MUTATIONS;
  const total = only ? only.reduce((a, m) => a + WEIGHT[m], 0) : TOTAL_WEIGHT;
  let x = rng.next() * total;
  for (const m of from) {
    x -= WEIGHT[m];
    if (x < 0) return m;
  }
  return from[0]!;
}

/** Builds one frame: a body (weighted toward what a participant sends) under a mutation. */
export function buildFrame(rng: Rng, ctx: FrameContext, mutation: Mutation): Frame {
  const body: string = rng.next() < 0.9 ? rng.pick(CLIENT_BODIES) : rng.pick(SERVER_BODIES);
  const seq = ctx.seq;
  const enc = (b: Omit<EnvelopeInit, 'seq' | 'replyTo'>) => encodeEnvelope({ ...b, seq });
  const frame = (data: Uint8Array | string, what: string = body, binary = true): Frame => ({
    kind: `${mutation}/${what}`,
    data,
    binary,
  });
  const valid = () => enc(validBody(rng, body, ctx));
  switch (mutation) {
    case 'valid':
      return frame(valid());
    case 'bitflip': {
      const b = Uint8Array.from(valid());
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips && b.length > 0; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return frame(b);
    }
    case 'truncate': {
      const b = valid();
      return frame(b.subarray(0, rng.int(Math.max(1, b.length))));
    }
    case 'wrongOneof': {
      const inner = innerBytes(validBody(rng, body, ctx));
      const other = rng.pick(CLIENT_BODIES.filter((x) => x !== body));
      return frame(rawEnvelope(seq, BODY_FIELD[other]!, inner), `${body}-as-${other}`);
    }
    case 'wrongDirection': {
      const b = rng.pick(SERVER_BODIES);
      return frame(enc(validBody(rng, b, ctx)), b);
    }
    case 'wireType': {
      // The body field with a varint wire type, or a varint field as length-delimited.
      const w = protobuf.Writer.create().uint32(8).uint32(seq);
      if (rng.next() < 0.5) w.uint32(BODY_FIELD[body]! << 3).uint64(rng.int(1e9));
      else w.uint32((1 << 3) | 2).bytes(rng.bytes(rng.int(20)));
      return frame(w.finish());
    }
    case 'badRound':
      return frame(
        enc({
          predictions: {
            round: rng.pick([0, ctx.round + 1, ctx.round + 1000, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]),
            encoding: 3,
            rows: ctx.rows || 16,
            classes: ctx.classes,
            payload: uint8Rows(rng, ctx.rows || 16, ctx.classes),
          },
        }),
        'predictions',
      );
    case 'nanPayload': {
      const rows = ctx.rows || 16;
      const f = new Float32Array(rows * ctx.classes).fill(1 / ctx.classes);
      for (let i = 0; i < f.length; i += 1 + rng.int(7))
        f[i] = rng.pick([NaN, Infinity, -Infinity, -1, 2, 1e38]);
      const payload = new Uint8Array(f.buffer);
      const w = rng.next() < 0.8;
      return frame(
        w
          ? enc({ predictions: { round: ctx.round, encoding: 1, rows, classes: ctx.classes, payload } })
          : enc({ weights: { round: ctx.round, encoding: 1, count: f.length, payload, numSamples: 1 } }),
        w ? 'predictions' : 'weights',
      );
    }
    case 'shapeLie': {
      const rows = rng.pick([0, 1, (ctx.rows || 16) + 1, 2 ** 31, 4294967295]);
      const classes = rng.pick([0, 1, ctx.classes + 1, 65537, 4294967295]);
      const encoding = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000]);
      return frame(
        enc({
          predictions: {
            round: ctx.round,
            encoding,
            rows,
            classes,
            k: rng.pick([0, 1, 3, 300, 4294967295]),
            payload: rng.bytes(rng.int(256)),
            // Unknown enum values (2, 99) travel as numbers: the coordinator must refuse them.
            compression: rng.pick([0, 0, 1, 2, 99]) as 0 | 1,
          },
        }),
        'predictions',
      );
    }
    case 'hugeRepeated':
      return frame(hugeRepeated(rng, ctx, rng.pick([1000, 100_000, 1_000_000])), 'hello');
    case 'oversized': {
      // Just above the limit in force, or far above it (ws refuses the latter itself).
      const size =
        rng.next() < 0.7 ? ctx.maxFrameBytes + 1 + rng.int(1024) : ctx.maxFrameBytes * 2 + (1 << 20);
      const inner = new Uint8Array(size);
      return frame(rawEnvelope(seq, BODY_FIELD[body]!, inner));
    }
    case 'deflateBomb': {
      const rows = ctx.rows || 16;
      return frame(
        enc({
          predictions: {
            round: ctx.round,
            encoding: 3,
            rows,
            classes: ctx.classes,
            payload: deflateBomb(),
            compression: 1,
          },
        }),
        'predictions',
      );
    }
    case 'badText': {
      const bad = rng.pick(['a\u0000b', '\ud800x', 'x'.repeat(rng.pick([300, 5000, 100_000])), '\u0007bell']);
      return frame(
        enc({
          hello: {
            protocolVersion: 1,
            joinToken: rng.next() < 0.5 ? ctx.joinToken : bad,
            name: bad,
            kind: 1,
            inputShape: ctx.inputShape,
            numClasses: ctx.classes,
            supportedEncodings: [3],
            modelArch: rng.next() < 0.5 ? bad : '',
            clientVersion: rng.next() < 0.5 ? bad : '',
          },
        }),
        'hello',
      );
    }
    case 'random':
      return frame(rng.bytes(rng.int(512)), 'bytes');
    case 'empty':
      return frame(rng.next() < 0.5 ? new Uint8Array(0) : Envelope.encode({ seq }).finish(), 'none');
    case 'text':
      return frame(rng.next() < 0.5 ? '{"hello":{}}' : 'x'.repeat(rng.int(5000)), 'text', false);
    case 'fragmented': {
      // A valid body, or up to 60 KiB of filler, in 2-64 fragments, half of them never finished.
      const data =
        rng.next() < 0.5 ? valid() : rawEnvelope(seq, BODY_FIELD[body]!, new Uint8Array(rng.int(60_000)));
      return { ...frame(data), fragments: 2 + rng.int(63), unfinished: rng.next() < 0.5 };
    }
    case 'seqReplay':
      // A valid body under a seq already used (or 0): PROTOCOL.md says seq MUST increase.
      return frame(
        encodeEnvelope({ ...validBody(rng, body, ctx), seq: rng.pick([0, 1, Math.max(0, seq - 1)]) }),
      );
  }
}
