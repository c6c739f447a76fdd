/**
 * Frames: one binary WebSocket message holds one serialized `mutua.v1.Envelope`.
 *
 * `decodeFrame` never throws. It returns the envelope or a ProtocolError, in this order:
 *   text frame                              -> BAD_FRAME (detail TEXT_FRAME, close 1003)
 *   more than maxFrameBytes                 -> FRAME_TOO_LARGE, before any byte is parsed
 *   malformed protobuf (wire-check.ts)      -> BAD_FRAME (detail TRUNCATED, WRONG_WIRE_TYPE, ...)
 *   well formed but no body                 -> EMPTY_BODY (non-fatal, answer with reply_to = seq)
 * Unknown field numbers with a valid wire type are skipped, at every level, so a newer peer can
 * add fields; a newer peer's unknown body type therefore arrives as EMPTY_BODY, which is
 * answered but not fatal.
 *
 * uint64 fields (rounds, versions, timestamps) decode to plain numbers, as the generated types
 * say; a value above Number.MAX_SAFE_INTEGER is BAD_FRAME (detail UINT64_RANGE) rather than a
 * silently rounded round number. Decode through decodeFrame, not Envelope.decode: protobufjs
 * alone returns Long objects for uint64 whenever the `long` package is installed.
 */
import protobuf from 'protobufjs/minimal.js';
import { ProtocolError } from './errors.ts';
import { mutua } from './gen/mutua.js';
import { checkWire } from './wire-check.ts';

/** What `encodeEnvelope` takes: plain objects, fields optional. */
export type EnvelopeInit = mutua.v1.Envelope.$Properties;
/** A decoded envelope; `switch (env.body)` narrows the body field. */
export type DecodedEnvelope = mutua.v1.Envelope & mutua.v1.Envelope.$Shape;
/** The oneof member names, e.g. 'hello', 'predictions', 'roundClosed'. */
export type BodyName = NonNullable<mutua.v1.Envelope['body']>;

export const BODY_NAMES: readonly BodyName[] = [
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
];

/** Bodies a participant sends; the others come from the coordinator (heartbeat goes both ways). */
export const PARTICIPANT_BODIES: ReadonlySet<BodyName> = new Set<BodyName>([
  'hello',
  'predictions',
  'weights',
  'metrics',
  'taskRequest',
  'leave',
  'heartbeat',
]);
export const COORDINATOR_BODIES: ReadonlySet<BodyName> = new Set<BodyName>([
  'welcome',
  'task',
  'targets',
  'ack',
  'roundClosed',
  'error',
  'heartbeat',
]);

/** Frame data as `ws` (Buffer, ArrayBuffer, Buffer[] for fragments) or a browser (ArrayBuffer, string) hands it over. */
export type FrameData = Uint8Array | ArrayBuffer | readonly Uint8Array[] | string;

export interface DecodeFrameOptions {
  /** Frames above this many bytes are rejected unparsed (FRAME_TOO_LARGE). */
  maxFrameBytes: number;
  /** `ws` passes isBinary to 'message' listeners; false means a text frame. */
  isBinary?: boolean;
}

/** The decoded envelope whose body is B: `envelope[B]` is then non-null. */
export type EnvelopeWith<B extends BodyName> = DecodedEnvelope & { body: B } & {
  [K in B]: NonNullable<DecodedEnvelope[K]>;
};

/** A successful decode; testing `body` narrows `envelope`. */
export type DecodedFrame = { [B in BodyName]: { ok: true; body: B; envelope: EnvelopeWith<B> } }[BodyName];

export type DecodeFrameResult =
  | DecodedFrame
  | {
      ok: false;
      error: ProtocolError;
      /** The seq to put in the Error's reply_to: the envelope's when it decoded, else 0. */
      replyTo: number;
    };

/**
 * Serializes an envelope. Throws TypeError unless exactly one body is set: that is a bug in
 * the caller, never a peer's doing. In Node the result is a Buffer that may be a slice of a
 * shared pool: pass it on as a view (ws.send, out.set), never as `result.buffer` alone.
 */
export function encodeEnvelope(msg: EnvelopeInit): Uint8Array {
  let bodies = 0;
  for (const name of BODY_NAMES) if (msg[name] != null) bodies++;
  if (bodies !== 1) throw new TypeError(`encodeEnvelope: exactly one body must be set, got ${bodies}`);
  return mutua.v1.Envelope.encode(msg).finish();
}

/** Decodes and checks one frame; never throws (see the module comment). */
export function decodeFrame(data: FrameData, opts: DecodeFrameOptions): DecodeFrameResult {
  try {
    return decode(data, opts);
  } catch (cause) {
    // Unreachable unless protobufjs disagrees with wire-check; still a coded answer, not a crash.
    return fail(
      new ProtocolError('BAD_FRAME', `the frame could not be decoded: ${String(cause)}`, { cause }),
    );
  }
}

function fail(error: ProtocolError, replyTo = 0): DecodeFrameResult {
  return { ok: false, error, replyTo };
}

function decode(data: FrameData, opts: DecodeFrameOptions): DecodeFrameResult {
  if (typeof data === 'string' || opts.isBinary === false) {
    return fail(
      new ProtocolError(
        'BAD_FRAME',
        'text frames are not part of the protocol: send each Envelope as a binary frame',
        {
          detail: 'TEXT_FRAME',
          closeCode: 1003,
        },
      ),
    );
  }
  const size = byteLength(data);
  if (size === undefined) {
    return fail(new ProtocolError('BAD_FRAME', 'frame data is not binary', { detail: 'NOT_BINARY' }));
  }
  if (size > opts.maxFrameBytes) {
    return fail(
      new ProtocolError(
        'FRAME_TOO_LARGE',
        `frame of ${size} bytes exceeds the maximum of ${opts.maxFrameBytes} bytes (Welcome.max_frame_bytes)`,
      ),
    );
  }
  const bytes = toBytes(data, size);
  const check = checkWire(bytes, 'mutua.v1.Envelope');
  if (!check.ok) {
    return fail(
      new ProtocolError('BAD_FRAME', `malformed Envelope: ${check.message}`, { detail: check.fault }),
    );
  }
  let envelope: DecodedEnvelope;
  try {
    envelope = mutua.v1.Envelope.decode(numberReader(bytes)) as DecodedEnvelope;
  } catch (e) {
    if (e instanceof Uint64RangeError) {
      return fail(new ProtocolError('BAD_FRAME', e.message, { detail: 'UINT64_RANGE' }));
    }
    throw e;
  }
  const body = envelope.body;
  if (body === undefined) {
    return fail(
      new ProtocolError(
        'EMPTY_BODY',
        'the Envelope carries no body this coordinator knows (none set, or a message type from a newer protocol)',
      ),
      envelope.seq,
    );
  }
  return { ok: true, envelope, body } as DecodedFrame;
}

class Uint64RangeError extends Error {}

type LongLike = { toNumber(): number; high: number; low: number };

/**
 * A protobufjs Reader whose uint64() returns a safe-integer number. The override sits on the
 * instance (the generated decoders pass the same reader down to nested messages), so the
 * protobufjs module's global configuration is left alone.
 */
function numberReader(bytes: Uint8Array): protobuf.Reader {
  const reader = protobuf.Reader.create(bytes);
  const uint64 = reader.uint64;
  reader.uint64 = function (this: protobuf.Reader) {
    const v = uint64.call(this) as unknown as number | LongLike;
    const n = typeof v === 'number' ? v : v.high >>> 0 < 0x200000 ? v.toNumber() : Number.NaN;
    if (!Number.isSafeInteger(n)) {
      throw new Uint64RangeError(
        `a uint64 field is above ${Number.MAX_SAFE_INTEGER}, which this protocol never uses`,
      );
    }
    return n as unknown as ReturnType<protobuf.Reader['uint64']>;
  };
  return reader;
}

function byteLength(data: Exclude<FrameData, string>): number | undefined {
  if (data instanceof Uint8Array) return data.length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (Array.isArray(data)) {
    let total = 0;
    for (const part of data as unknown[]) {
      if (!(part instanceof Uint8Array)) return undefined;
      total += part.length;
    }
    return total;
  }
  return undefined;
}

function toBytes(data: Exclude<FrameData, string>, size: number): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of data as readonly Uint8Array[]) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
