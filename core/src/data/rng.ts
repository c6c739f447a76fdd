/**
 * A small seeded PRNG so that every split and shuffle in a simulation is reproducible from
 * one integer, identically in Node and the browser (Math.random cannot be seeded).
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128-bit state seeded through splitmix32, so
 * nearby seeds (1, 2, 3...) give unrelated streams. Not cryptographic.
 */
import { DataError } from './errors.ts';

/** Anything indexable and writable: arrays and typed arrays. */
export interface MutableArrayLike<T> {
  readonly length: number;
  [index: number]: T;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let t = next ^ (next >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return [next, t >>> 0];
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new DataError('DATA_INVALID_OPTION', `seed must be a safe integer, got ${seed}`);
  }
}

/**
 * A seed for an independent sub-stream, e.g. one per purpose (holdout, partition) so that
 * changing how many numbers one purpose draws does not shift the other.
 */
export function deriveSeed(seed: number, stream: number): number {
  checkSeed(seed);
  checkSeed(stream);
  const [, a] = splitmix32(fold(seed));
  const [, b] = splitmix32(a ^ fold(stream));
  return b;
}

/** 32 bits of a safe integer, the high bits mixed in so seeds differing only above 2^32 differ. */
function fold(x: number): number {
  return ((x >>> 0) ^ Math.imul(Math.floor(x / TWO_POW_32) | 0, 0x85ebca6b)) | 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second value of the last polar-method pair. */
  private spare: number | undefined;

  /** `seed`: any safe integer; the same seed always gives the same sequence. */
  constructor(seed: number) {
    checkSeed(seed);
    let s = fold(seed);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      let out: number;
      [s, out] = splitmix32(s);
      words.push(out | 0);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the one forbidden state
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.uniform();
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1)
      throw new DataError('DATA_INVALID_OPTION', `int(n) needs n >= 1, got ${n}`);
    if (n > TWO_POW_32) return Math.floor(this.uniform() * n);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let r = this.nextUint32();
    while (r >= limit) r = this.nextUint32();
    return r % n;
  }

  /** Normal(mean, std) by Marsaglia's polar method (one pair per two calls). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return mean + std * z;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return mean + std * u * f;
  }

  /**
   * Gamma(shape, scale), mean shape*scale, by Marsaglia & Tsang (2000). For shape < 1 it uses
   * their boost: Gamma(a) = Gamma(a + 1) * U^(1/a).
   */
  gamma(shape: number, scale = 1): number {
    checkShape(shape);
    if (shape < 1) return Math.exp(this.logGammaBoosted(shape)) * scale;
    return this.gammaAtLeastOne(shape) * scale;
  }

  /**
   * A sample of Dirichlet(alpha): non-negative weights summing to 1. Works in log space for
   * shapes below 1, where Gamma draws underflow to 0 (alpha = 0.01 is a legitimate setting).
   */
  dirichlet(alpha: ArrayLike<number>): Float64Array {
    const k = alpha.length;
    if (k < 1) throw new DataError('DATA_INVALID_OPTION', 'dirichlet needs at least one concentration');
    const logs = new Float64Array(k);
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < k; i++) {
      const a = alpha[i]!;
      checkShape(a);
      logs[i] = a < 1 ? this.logGammaBoosted(a) : Math.log(this.gammaAtLeastOne(a));
      if (logs[i]! > max) max = logs[i]!;
    }
    let sum = 0;
    for (let i = 0; i < k; i++) {
      logs[i] = Math.exp(logs[i]! - max);
      sum += logs[i]!;
    }
    for (let i = 0; i < k; i++) logs[i] = logs[i]! / sum;
    return logs;
  }

  /** Fisher–Yates, in place; returns its argument. */
  shuffle<A extends MutableArrayLike<unknown>>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  private gammaAtLeastOne(shape: number): number {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** log Gamma(shape) sample for shape < 1, via the boost; 1 - U is in (0, 1], so never log 0. */
  private logGammaBoosted(shape: number): number {
    return Math.log(this.gammaAtLeastOne(shape + 1)) + Math.log(1 - this.uniform()) / shape;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function checkShape(shape: number): void {
  if (!(shape > 0) || !Number.isFinite(shape)) {
    throw new DataError('DATA_INVALID_OPTION', `gamma/dirichlet shape must be finite and > 0, got ${shape}`);
  }
}
