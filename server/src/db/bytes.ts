/** Byte helpers shared by the repositories. */
import { randomFillSync } from 'node:crypto';
import { DbError } from './errors.ts';

/** Batch indices as stored: uint32 little-endian, 4 bytes each (compact, and the same on every host). */
export function encodeIndices(indices: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(indices.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new DbError('MUTUA_ERR_DB_INVALID', `batch index ${v} at position ${i} is not a uint32`);
    }
    view.setUint32(i * 4, v, true);
  }
  return out;
}

export function decodeIndices(bytes: Uint8Array): Uint32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new DbError(
      'MUTUA_ERR_DB_INVALID',
      `stored batch indices have ${bytes.byteLength} bytes, not a multiple of 4`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/** A plain Uint8Array over the same memory (drivers hand back Buffers; callers get one type). */
export function asUint8Array(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A copy in a fresh ArrayBuffer, as Prisma's Bytes inputs are typed. */
export function toBytesInput(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** A UUIDv7 (time-ordered, like the schema's @default(uuid(7))) for rows inserted with raw SQL. */
export function uuidv7(now: number = Date.now()): string {
  // Random bytes drawn 4 KiB at a time: one randomFillSync per id was 3% of the
  // coordinator's CPU at 1,000 submissions/s.
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const b = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
