// Seeded pseudo-random numbers for reproducible data generation and splits.
// xoshiro128** (32-bit state words, fast in JS) seeded through splitmix32; normals by Box–Muller.

/** splitmix32 step: a well-mixed 32-bit hash of `x`, used for seeding and for deriving substreams. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second Box–Muller output, kept for the next normal() call. */
  private spare = NaN;

  constructor(seed: number) {
    // Seeds may be any finite number; fold the high bits in so that 2^32 + k ≠ k.
    const lo = seed | 0;
    const hi = Math.floor(seed / 4294967296) | 0;
    let x = mix32(lo ^ mix32(hi));
    this.s0 = x = mix32(x);
    this.s1 = x = mix32(x);
    this.s2 = x = mix32(x);
    this.s3 = mix32(x);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** An independent generator for a named purpose; the same (seed, stream) always gives the same numbers. */
  fork(stream: number): Rng {
    return new Rng(mix32(this.uint32() ^ mix32(stream)));
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32-bit resolution (enough for sampling; twice as fast as 53-bit). */
  next(): number {
    return this.uint32() * 2.3283064365386963e-10;
  }

  /** Uniform integer in [0, n), n ≤ 2^32; multiply-shift, bias below 2^-32·n. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal. */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const value = this.spare;
      this.spare = NaN;
      return value;
    }
    const u = 1 - this.next(); // (0, 1]: log stays finite
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fills `out` with N(mean, sd²) draws (uses both Box–Muller outputs; the hot path of feature noise). */
  fillNormal(out: Float32Array, sd = 1, mean = 0): Float32Array {
    const n = out.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const r = sd * Math.sqrt(-2 * Math.log(1 - this.next()));
      const theta = 2 * Math.PI * this.next();
      out[i] = mean + r * Math.cos(theta);
      out[i + 1] = mean + r * Math.sin(theta);
    }
    if (i < n) out[i] = mean + sd * this.normal();
    return out;
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<A extends { length: number; [i: number]: unknown }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    return this.shuffle(perm);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
