/**
 * A strict structural pass over protobuf bytes, run before protobufjs decodes a frame.
 *
 * protobufjs is lenient where a protocol endpoint should not be: a known field that arrives
 * with the wrong wire type is silently treated as unknown and dropped, so a buggy client's
 * `rows` would read as 0 and the error would point at the wrong thing. This pass walks the
 * frame against the generated wire schema and reports the first fault precisely.
 *
 * Rules (PROTOCOL.md, "Decoding rules"):
 * - wire types 0 (varint), 1 (64-bit), 2 (length-delimited) and 5 (32-bit) are accepted;
 *   3 and 4 (groups, which proto3 never emits) and 6, 7 (undefined) are rejected;
 * - field number 0, tags over 32 bits, tags and lengths over 5 bytes and other varints over 10
 *   bytes are rejected;
 * - every length and fixed-width value must fit inside its enclosing message (truncation);
 * - a KNOWN field must use its declared wire type (repeated scalars: packed or not), packed
 *   contents must be whole elements, strings must be valid UTF-8, and known message fields are
 *   checked recursively;
 * - an UNKNOWN field number with a valid wire type is skipped: that is how a newer peer's
 *   additional fields (forward compatibility) reach an older one;
 * - repeated fields carry at most their bound of elements and strings at most their bound of
 *   bytes (wire-limits.ts), counted here, before protobufjs allocates per element.
 */
import { type WireField, wireSchema } from './gen/wire-schema.js';
import {
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_MAX_STRING_BYTES,
  type FieldLimit,
  WIRE_LIMITS,
} from './wire-limits.ts';

export const WIRE_FAULTS = [
  'TRUNCATED',
  'VARINT_TOO_LONG',
  'BAD_TAG',
  'FIELD_ZERO',
  'GROUP',
  'INVALID_WIRE_TYPE',
  'WRONG_WIRE_TYPE',
  'BAD_PACKED',
  'BAD_UTF8',
  'TOO_DEEP',
  'TOO_MANY_ELEMENTS',
  'FIELD_TOO_LONG',
] as const;
/** The `detail` of a BAD_FRAME from the strict wire pass. */
export type WireFault = (typeof WIRE_FAULTS)[number];

export type WireCheckResult = { ok: true } | { ok: false; fault: WireFault; message: string };

const MAX_DEPTH = 32;
const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'start-group', 'end-group', '32-bit', '6', '7'];
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Fault {
  constructor(
    readonly fault: WireFault,
    readonly message: string,
  ) {}
}

/** Checks that `bytes` is a well-formed encoding of the message type `typeName` (e.g. 'mutua.v1.Envelope'). */
export function checkWire(bytes: Uint8Array, typeName: string): WireCheckResult {
  try {
    checkMessage(bytes, 0, bytes.length, typeName, 0);
    return { ok: true };
  } catch (e) {
    if (e instanceof Fault) return { ok: false, fault: e.fault, message: e.message };
    throw e;
  }
}

// The position after the varint at `pos`; its value is left in `varintValue` (exact below
// 2^53, which covers every tag and length that can fit in a frame).
let varintValue = 0;

function readVarint(buf: Uint8Array, pos: number, end: number, what: string, maxBytes = 10): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= end) throw new Fault('TRUNCATED', `${what}: the varint runs past the end of its message`);
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) {
      varintValue = value;
      return pos;
    }
  }
  throw new Fault('VARINT_TOO_LONG', `${what}: varint longer than ${maxBytes} bytes`);
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function checkMessage(buf: Uint8Array, pos: number, end: number, typeName: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new Fault('TOO_DEEP', `messages nested deeper than ${MAX_DEPTH}`);
  const fields = wireSchema[typeName] ?? {};
  const limits = WIRE_LIMITS[typeName];
  const short = typeName.slice(typeName.lastIndexOf('.') + 1);
  // Elements seen so far per bounded field of this message (packed and unpacked together).
  let counts: Map<number, number> | undefined;
  const count = (field: number, n: number, max: number, label: string): void => {
    counts ??= new Map();
    const total = (counts.get(field) ?? 0) + n;
    if (total > max) {
      throw new Fault('TOO_MANY_ELEMENTS', `${label}: more than ${max} elements`);
    }
    counts.set(field, total);
  };
  while (pos < end) {
    const tagAt = pos;
    // Tags and lengths are 32-bit quantities: at most 5 bytes, as protobufjs and protoc read them.
    pos = readVarint(buf, pos, end, `${short} tag at byte ${tagAt}`, 5);
    const tag = varintValue;
    if (tag > 0xffffffff) throw new Fault('BAD_TAG', `${short}: tag at byte ${tagAt} exceeds 32 bits`);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new Fault('FIELD_ZERO', `${short}: field number 0 at byte ${tagAt}`);
    if (wire === 3 || wire === 4) {
      throw new Fault(
        'GROUP',
        `${short}: field ${field} uses a group wire type (${wire}), which proto3 does not allow`,
      );
    }
    if (wire > 5)
      throw new Fault('INVALID_WIRE_TYPE', `${short}: field ${field} has invalid wire type ${wire}`);
    const spec: WireField | undefined = fields[field];
    const label = spec ? `${short}.${snake(spec.name)} (field ${field})` : `${short} unknown field ${field}`;
    if (spec && !spec.wire.includes(wire)) {
      const want = spec.wire.map((w) => `${w} (${WIRE_NAMES[w]})`).join(' or ');
      throw new Fault(
        'WRONG_WIRE_TYPE',
        `${label} arrived with wire type ${wire} (${WIRE_NAMES[wire]}), expected ${want}`,
      );
    }
    const limit: FieldLimit | undefined = spec ? limits?.[field] : undefined;
    const maxElements = limit?.maxElements ?? (spec?.packed !== undefined ? DEFAULT_MAX_ELEMENTS : undefined);
    if (maxElements !== undefined && wire !== 2) count(field, 1, maxElements, label);
    switch (wire) {
      case 0:
        pos = readVarint(buf, pos, end, label);
        break;
      case 1:
      case 5: {
        const width = wire === 1 ? 8 : 4;
        if (pos + width > end)
          throw new Fault('TRUNCATED', `${label}: ${width}-byte value runs past the end`);
        pos += width;
        break;
      }
      default: {
        pos = readVarint(buf, pos, end, `${label} length`, 5);
        const len = varintValue;
        if (len > 0x7fffffff || len > end - pos) {
          throw new Fault('TRUNCATED', `${label}: length ${len} runs past the end (${end - pos} bytes left)`);
        }
        const stop = pos + len;
        if (spec?.message !== undefined) checkMessage(buf, pos, stop, spec.message, depth + 1);
        else if (spec?.packed !== undefined) {
          const elements = checkPacked(buf, pos, stop, spec.packed, label);
          if (maxElements !== undefined) count(field, elements, maxElements, label);
        } else if (spec) {
          // A string or bytes value; a repeated one (label_names) counts one element each.
          if (maxElements !== undefined) count(field, 1, maxElements, label);
          const maxBytes = limit?.maxBytes ?? (spec.utf8 ? DEFAULT_MAX_STRING_BYTES : undefined);
          if (maxBytes !== undefined && len > maxBytes) {
            throw new Fault('FIELD_TOO_LONG', `${label}: ${len} bytes, more than ${maxBytes}`);
          }
          if (spec.utf8) checkUtf8(buf, pos, stop, label);
        }
        pos = stop;
      }
    }
  }
}

/** Checks a packed run and returns how many elements it holds. */
function checkPacked(buf: Uint8Array, pos: number, end: number, elementWire: number, label: string): number {
  if (elementWire === 0) {
    let elements = 0;
    while (pos < end) {
      elements++;
      const at = pos;
      // A varint cut by the end of the packed run is a bad packed field, not a truncated frame.
      try {
        pos = readVarint(buf, pos, end, label);
      } catch (e) {
        if (e instanceof Fault && e.fault === 'TRUNCATED') {
          throw new Fault(
            'BAD_PACKED',
            `${label}: packed varint at byte ${at} is cut by the end of the field`,
          );
        }
        throw e;
      }
    }
    return elements;
  }
  const width = elementWire === 1 ? 8 : 4;
  if ((end - pos) % width !== 0) {
    throw new Fault('BAD_PACKED', `${label}: packed length ${end - pos} is not a multiple of ${width}`);
  }
  return (end - pos) / width;
}

function checkUtf8(buf: Uint8Array, pos: number, end: number, label: string): void {
  // ASCII fast path: most strings here are tokens and names.
  for (let i = pos; i < end; i++) {
    if (buf[i]! >= 0x80) {
      try {
        utf8.decode(buf.subarray(pos, end));
      } catch {
        throw new Fault('BAD_UTF8', `${label} is not valid UTF-8`);
      }
      return;
    }
  }
}
