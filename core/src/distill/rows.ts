/** Row gathering, seeded shuffles and event-loop yields used by the training and inference loops. */

export function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Rows `rows` of a row-major array; a zero-copy view when they are contiguous and in order. */
export function gatherRows(src: Float32Array, rows: Int32Array, width: number, copy: boolean): Float32Array {
  if (!copy) {
    const first = rows[0]!;
    return src.subarray(first * width, (first + rows.length) * width);
  }
  const out = new Float32Array(rows.length * width);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    out.set(src.subarray(r * width, (r + 1) * width), k * width);
  }
  return out;
}

export function gatherLabels(y: Int32Array, rows: Int32Array): Int32Array {
  const out = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = y[rows[k]!]!;
  return out;
}

/** Seeded PRNG (mulberry32): reproducible shuffles across runs and platforms. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace(a: Int32Array, rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** A macrotask boundary: setImmediate in Node, a MessageChannel hop in browsers (not throttled like timers). */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
