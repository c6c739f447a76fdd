/**
 * Delta payloads: only the rows that changed since what the receiver already holds.
 *
 * Both sides keep, per public-set row, the decoded row the receiver last took in (DeltaRows:
 * for uploads, the participant's acknowledged uploads; for targets, the Targets sent on the
 * connection). A sender resends row i when the receiver holds no row for its public index, or
 * when some probability of the row, as the receiver would decode it, moved by more than the
 * threshold; every other row is left out and the receiver keeps its own copy.
 *
 * Layout (before any compression, which wraps the whole delta payload): a row mask of
 * ceil(n/8) bytes, bit i (bit i mod 8 of byte floor(i/8), least significant first) set when
 * row i is sent; the unused high bits of the last byte MUST be 0 (PAYLOAD_PADDING). Then, when
 * m = popcount(mask) > 0, the m sent rows in order, encoded as an m x C payload of the
 * message's encoding (predictions.ts; no header, k from the message). Length:
 * ceil(n/8) + predictionByteLength(m, C, encoding, k), anything else is PAYLOAD_LENGTH_MISMATCH.
 * A row left out whose public index the receiver does not hold is PAYLOAD_DELTA_BASE: the
 * receiver cannot rebuild it and answers DELTA_BASE_UNKNOWN (the sender resends full).
 *
 * Every encoding is row-independent (a row's bytes depend on that row only), so the sent rows
 * are exactly the bytes a full payload would have had for them, and both sides end up holding
 * the same decoded values: the sender's copy is the decode of what it sent, never its raw
 * float input.
 */
import { decodePredictions, encodePredictions } from './predictions.ts';
import { predictionByteLength } from './sizes.ts';
import { PayloadError, type PredictionCodecOptions, type PredictionEncoding } from './types.ts';

/**
 * The decoded rows one side holds for the other, by public-set index, and the version they
 * came with. Stored densely (C float32 values per index up to the largest index seen, plus a
 * byte per index saying whether it is held), so one participant's rows cost about
 * 4*C*sampleCount bytes, with no per-row object.
 */
export class DeltaRows {
  /** The round (uploads) or Targets version (targets) the rows are as of; 0 = holds nothing. */
  version = 0;
  private values = new Float32Array(0);
  private held = new Uint8Array(0);
  private count = 0;

  constructor(readonly classes: number) {}

  /** Rows held. */
  get size(): number {
    return this.count;
  }

  /** The row held for public index `index` (a view: copy it to keep it), or undefined. */
  get(index: number): Float32Array | undefined {
    if (!(index < this.held.length) || this.held[index] === 0) return undefined;
    const C = this.classes;
    return this.values.subarray(index * C, (index + 1) * C);
  }

  /** Takes in the rows of `values` (n x C, row i for public index indices[i]) and the version. */
  update(indices: ArrayLike<number>, values: Float32Array, version: number): void {
    const C = this.classes;
    let top = -1;
    for (let i = 0; i < indices.length; i++) top = Math.max(top, indices[i]!);
    if (top >= this.held.length) this.grow(top + 1);
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i]!;
      if (this.held[index] === 0) this.count++;
      this.held[index] = 1;
      this.values.set(values.subarray(i * C, (i + 1) * C), index * C);
    }
    this.version = version;
  }

  clear(): void {
    this.values = new Float32Array(0);
    this.held = new Uint8Array(0);
    this.count = 0;
    this.version = 0;
  }

  private grow(rows: number): void {
    const capacity = Math.max(rows, this.held.length * 2);
    const held = new Uint8Array(capacity);
    held.set(this.held);
    const values = new Float32Array(capacity * this.classes);
    values.set(this.values);
    this.held = held;
    this.values = values;
  }
}

export interface DeltaCodecOptions extends PredictionCodecOptions {
  /** Largest |change| of a decoded probability for a row to count as unchanged (default 0). */
  threshold?: number;
}

export interface EncodedDelta {
  payload: Uint8Array;
  /** n x C: what the receiver holds after decoding it (its own rows where a row was left out). */
  values: Float32Array;
  /** Rows sent. */
  sent: number;
  /**
   * The same rows as a full payload and its decode: a sender sends this instead (delta base 0)
   * when it is no larger than the delta (almost every row changed).
   */
  full: { payload: Uint8Array; values: Float32Array };
}

/** Bytes of the row mask for n rows. */
export function deltaMaskBytes(n: number): number {
  return Math.ceil(n / 8);
}

/** Largest delta payload for n rows (every row sent): the inflate cap of a compressed delta. */
export function maxDeltaByteLength(n: number, C: number, enc: PredictionEncoding, k?: number): number {
  return deltaMaskBytes(n) + predictionByteLength(n, C, enc, k);
}

/**
 * Encodes `probs` (n x C, row i for public index indices[i]) as a delta against `base`.
 * Throws PayloadError for input encodePredictions refuses.
 */
export function encodeDelta(
  probs: Float32Array,
  indices: ArrayLike<number>,
  C: number,
  enc: PredictionEncoding,
  base: DeltaRows,
  opts: DeltaCodecOptions = {},
): EncodedDelta {
  const n = indices.length;
  const fullPayload = encodePredictions(probs, n, C, enc, opts);
  const full = decodePredictions(fullPayload, n, C, enc, opts);
  const threshold = opts.threshold ?? 0;
  const mask = new Uint8Array(deltaMaskBytes(n));
  const values = new Float32Array(n * C);
  const sentRows: number[] = [];
  for (let i = 0; i < n; i++) {
    const held = base.get(indices[i]!);
    const row = full.subarray(i * C, (i + 1) * C);
    if (held !== undefined && held.length === C && withinThreshold(row, held, threshold)) {
      values.set(held, i * C);
    } else {
      values.set(row, i * C);
      mask[i >> 3]! |= 1 << (i & 7);
      sentRows.push(i);
    }
  }
  const whole = { payload: fullPayload, values: full };
  if (sentRows.length === 0) return { payload: mask, values, sent: 0, full: whole };
  const subset = new Float32Array(sentRows.length * C);
  for (let r = 0; r < sentRows.length; r++) {
    const i = sentRows[r]!;
    subset.set(probs.subarray(i * C, (i + 1) * C), r * C);
  }
  const rows = encodePredictions(subset, sentRows.length, C, enc, opts);
  const payload = new Uint8Array(mask.length + rows.length);
  payload.set(mask);
  payload.set(rows, mask.length);
  return { payload, values, sent: sentRows.length, full: whole };
}

/**
 * Decodes a delta payload for rows `indices` against `base`: the n x C values the sender
 * meant. Throws PayloadError: PAYLOAD_PADDING (mask bits past n), PAYLOAD_LENGTH_MISMATCH,
 * PAYLOAD_DELTA_BASE (a left-out row `base` does not hold), and every code of the encoding's
 * own decoder for the sent rows.
 */
export function decodeDelta(
  bytes: Uint8Array,
  indices: ArrayLike<number>,
  C: number,
  enc: PredictionEncoding,
  base: DeltaRows,
  opts: PredictionCodecOptions = {},
): { values: Float32Array; sent: number } {
  const n = indices.length;
  const maskLength = deltaMaskBytes(n);
  if (bytes.length < maskLength) {
    throw new PayloadError(
      'PAYLOAD_LENGTH_MISMATCH',
      `a delta payload for ${n} rows needs a ${maskLength}-byte row mask, got ${bytes.length} bytes`,
    );
  }
  if (n % 8 !== 0 && bytes[maskLength - 1]! >> (n % 8) !== 0) {
    throw new PayloadError('PAYLOAD_PADDING', `the row mask's last ${8 - (n % 8)} bits must be 0`);
  }
  let sent = 0;
  for (let i = 0; i < n; i++) if ((bytes[i >> 3]! >> (i & 7)) & 1) sent++;
  const expected = maskLength + (sent > 0 ? predictionByteLength(sent, C, enc, opts.k) : 0);
  if (bytes.length !== expected) {
    throw new PayloadError(
      'PAYLOAD_LENGTH_MISMATCH',
      `a ${enc} delta payload sending ${sent} of ${n} rows is ${expected} bytes, got ${bytes.length}`,
    );
  }
  const rows =
    sent > 0
      ? decodePredictions(bytes.subarray(maskLength), sent, C, enc, { ...opts, maxElements: sent * C })
      : new Float32Array(0);
  const values = new Float32Array(n * C);
  for (let i = 0, r = 0; i < n; i++) {
    if ((bytes[i >> 3]! >> (i & 7)) & 1) {
      values.set(rows.subarray(r * C, (r + 1) * C), i * C);
      r++;
      continue;
    }
    const held = base.get(indices[i]!);
    if (held === undefined || held.length !== C) {
      throw new PayloadError(
        'PAYLOAD_DELTA_BASE',
        `row ${i} (public index ${indices[i]}) is left out, but no row of it is held`,
      );
    }
    values.set(held, i * C);
  }
  return { values, sent };
}

function withinThreshold(a: Float32Array, b: Float32Array, threshold: number): boolean {
  for (let j = 0; j < a.length; j++) if (Math.abs(a[j]! - b[j]!) > threshold) return false;
  return true;
}
