/** uint8 and top-k payloads: largest-remainder quantization into 255ths, with reused scratch. */

import { topkIndexBytes } from './sizes.ts';
import { PayloadError } from './types.ts';

// Scratch reused across calls so encoding allocates only its output. Safe because every
// function here is synchronous and none calls back into user code. Hot loops read it through
// locals: module-level `let` bindings cost a hole check on every access.
export interface Scratch {
  /** Bucket targets, then their fractional parts. */
  readonly t: Float64Array;
  /** Quantized buckets. */
  readonly q: Int32Array;
  /** Sort/select keys. */
  readonly keys: Float64Array;
  /** Selected top-k class indices. */
  readonly sel: Int32Array;
}

let scratch: Scratch = makeScratch(64);

export function makeScratch(size: number): Scratch {
  return {
    t: new Float64Array(size),
    q: new Int32Array(size),
    keys: new Float64Array(size),
    sel: new Int32Array(size),
  };
}

export function getScratch(m: number): Scratch {
  if (scratch.t.length < m) scratch = makeScratch(Math.max(m, 2 * scratch.t.length));
  return scratch;
}

/**
 * Moves the value that ranks `kth` (0-based, ascending) among a[0..len) to a[kth], with no
 * larger value before it and no smaller one after (C++'s nth_element; Hoare/Wirth partitioning
 * around a median-of-three, average O(len)). Returns a[kth].
 */
export function selectKth(a: Float64Array, len: number, kth: number): number {
  let lo = 0;
  let hi = len - 1;
  while (lo < hi) {
    const x0 = a[lo]!;
    const x1 = a[(lo + hi) >>> 1]!;
    const x2 = a[hi]!;
    const pivot = Math.max(Math.min(x0, x1), Math.min(Math.max(x0, x1), x2)); // median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (pivot < a[j]!) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    // Now a[lo..j] <= pivot, a[j+1..i-1] == pivot, a[i..hi] >= pivot: keep kth's part.
    if (j < kth) lo = i;
    if (kth < i) hi = j;
  }
  return a[kth]!;
}

/**
 * Largest-remainder rounding of t[0..m) (non-negative, summing to `total` up to float error)
 * into q[0..m), which then sums to exactly `total`: floor everything, then add 1 to the
 * `missing` entries with the largest fractional parts, ties to the lower position. Overwrites
 * t with the fractional parts.
 */
export function largestRemainder(s: Scratch, m: number, total: number): void {
  const t = s.t;
  const q = s.q;
  let floorSum = 0;
  for (let i = 0; i < m; i++) {
    const f = Math.floor(t[i]!);
    q[i] = f;
    floorSum += f;
    t[i] = t[i]! - f;
  }
  // 0 <= missing <= m: each fraction is < 1 and they add up to `missing` (up to float error).
  const missing = total - floorSum;
  if (missing <= 0) return;
  if (missing >= m) {
    for (let i = 0; i < m; i++) q[i] = q[i]! + 1;
    return;
  }
  if (m <= 16) {
    // Few buckets: pick the largest remaining fraction `missing` times; `>` keeps the lower
    // position on ties. Picked fractions are set to -1 (they are scratch).
    for (let r = 0; r < missing; r++) {
      let best = 0;
      for (let i = 1; i < m; i++) if (t[i]! > t[best]!) best = i;
      q[best] = q[best]! + 1;
      t[best] = -1;
    }
    return;
  }
  // Many buckets: find the missing-th largest fraction, then raise everything above it and
  // the lowest positions among those equal to it.
  const keys = s.keys;
  for (let i = 0; i < m; i++) keys[i] = t[i]!;
  const threshold = selectKth(keys, m, m - missing);
  let ties = missing;
  for (let i = 0; i < m; i++) if (t[i]! > threshold) ties--;
  for (let i = 0; i < m; i++) {
    const f = t[i]!;
    if (f > threshold || (f === threshold && ties-- > 0)) q[i] = q[i]! + 1;
  }
}

export function encodeUint8(src: Float32Array, n: number, C: number): Uint8Array {
  const s = getScratch(C);
  const t = s.t;
  const q = s.q;
  const out = new Uint8Array(n * C);
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = base; j < base + C; j++) sum += src[j]!;
    const scale = 255 / sum;
    for (let j = 0; j < C; j++) t[j] = src[base + j]! * scale;
    largestRemainder(s, C, 255);
    for (let j = 0; j < C; j++) out[base + j] = q[j]!;
  }
  return out;
}

export const UINT8_VALUES = new Float32Array(256).map((_, b) => b / 255);

export function decodeUint8(bytes: Uint8Array, n: number, C: number): Float32Array {
  const out = new Float32Array(n * C);
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = base; j < base + C; j++) {
      const b = bytes[j]!;
      sum += b;
      out[j] = UINT8_VALUES[b]!;
    }
    if (sum !== 255) {
      throw new PayloadError('PAYLOAD_ROW_SUM', `uint8 row ${r} sums to ${sum}, expected exactly 255`);
    }
  }
  return out;
}

/**
 * Fills s.sel[0..k) with the indices of the k largest values of src[base..base+C), largest
 * first, ties to the lower index. `bits` aliases src as uint32.
 */
export function selectTopk(
  s: Scratch,
  src: Float32Array,
  bits: Uint32Array,
  base: number,
  C: number,
  k: number,
): void {
  const sel = s.sel;
  if (k > 8) {
    // Keys that order by value, then by lower index: the bits of a non-negative binary32
    // order like its value (the sign is masked off for -0), and C <= 65536 leaves room below
    // them for the index within a double's 53-bit integers. Select the k largest, then sort
    // just those (natively: no comparator callback).
    const keys = s.keys;
    for (let j = 0; j < C; j++) keys[j] = (bits[base + j]! & 0x7fffffff) * 65536 + (65535 - j);
    if (k < C) selectKth(keys, C, C - k);
    const top = keys.subarray(C - k, C).sort();
    for (let e = 0; e < k; e++) sel[e] = 65535 - (top[k - 1 - e]! % 65536);
    return;
  }
  // Bounded insertion: O(C) when most values fall below the current k-th largest.
  let count = 0;
  for (let j = 0; j < C; j++) {
    const v = src[base + j]!;
    let p: number;
    if (count === k) {
      if (!(v > src[base + sel[k - 1]!]!)) continue;
      p = k - 1;
    } else {
      p = count++;
    }
    while (p > 0 && src[base + sel[p - 1]!]! < v) {
      sel[p] = sel[p - 1]!;
      p--;
    }
    sel[p] = j;
  }
}

export function encodeTopk(src: Float32Array, n: number, C: number, k: number): Uint8Array {
  const s = getScratch(C + 1);
  const t = s.t;
  const q = s.q;
  const sel = s.sel;
  const w = topkIndexBytes(C);
  const entry = w + 1;
  const out = new Uint8Array(n * k * entry);
  // With k < C the dropped mass is one more bucket, last, so it loses ties to kept classes.
  const buckets = k < C ? k + 1 : k;
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  let o = 0;
  for (let r = 0, base = 0; r < n; r++, base += C) {
    let sum = 0;
    for (let j = base; j < base + C; j++) sum += src[j]!;
    selectTopk(s, src, bits, base, C, k);
    const scale = 255 / sum;
    let kept = 0;
    for (let e = 0; e < k; e++) {
      const v = src[base + sel[e]!]!;
      kept += v;
      t[e] = v * scale;
    }
    if (k < C) t[k] = Math.max(0, sum - kept) * scale;
    largestRemainder(s, buckets, 255);
    for (let e = 0; e < k; e++) {
      const idx = sel[e]!;
      out[o] = idx & 0xff;
      if (w === 2) out[o + 1] = idx >>> 8;
      out[o + w] = q[e]!;
      o += entry;
    }
  }
  return out;
}

// Duplicate detection without clearing anything per row: a class was already named in the
// current row when its stamp equals the row's mark. Marks increase across rows and calls.
export const seen = { stamps: new Int32Array(0), mark: 0 };

export function decodeTopk(bytes: Uint8Array, n: number, C: number, k: number): Float32Array {
  const w = topkIndexBytes(C);
  const entry = w + 1;
  const out = new Float32Array(n * C);
  const rowBytes = k * entry;
  if (seen.stamps.length < C) {
    seen.stamps = new Int32Array(Math.max(C, 2 * seen.stamps.length));
    seen.mark = 0;
  }
  const stamps = seen.stamps;
  for (let r = 0, base = 0, start = 0; r < n; r++, base += C, start += rowBytes) {
    if (seen.mark === 0x7fffffff) {
      stamps.fill(0);
      seen.mark = 0;
    }
    const mark = ++seen.mark;
    let sum = 0;
    for (let o = start; o < start + rowBytes; o += entry) {
      const idx = w === 1 ? bytes[o]! : bytes[o]! | (bytes[o + 1]! << 8);
      if (idx >= C) {
        throw new PayloadError('PAYLOAD_TOPK_INDEX', `topk row ${r} names class ${idx}, but C=${C}`);
      }
      if (stamps[idx] === mark) {
        throw new PayloadError('PAYLOAD_TOPK_INDEX', `topk row ${r} names class ${idx} twice`);
      }
      stamps[idx] = mark;
      sum += bytes[o + w]!;
    }
    if (sum > 255 || (k === C && sum !== 255)) {
      const want = k === C ? 'exactly 255 (k = C)' : 'at most 255';
      throw new PayloadError('PAYLOAD_ROW_SUM', `topk row ${r} sums to ${sum}, expected ${want}`);
    }
    if (k < C) out.fill((255 - sum) / (255 * (C - k)), base, base + C);
    for (let o = start; o < start + rowBytes; o += entry) {
      const idx = w === 1 ? bytes[o]! : bytes[o]! | (bytes[o + 1]! << 8);
      out[base + idx] = UINT8_VALUES[bytes[o + w]!]!;
    }
  }
  return out;
}
