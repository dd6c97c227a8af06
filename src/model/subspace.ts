// The principal subspace of a feature matrix: an orthonormal basis P [I × k] of (approximately) its top-k right
// singular vectors, by randomised subspace iteration (Halko, Martinsson & Tropp 2011, alg. 4.4). The visual term's
// map E of 4096-wide image features is learned within this subspace (E = P·B), so every step and projection costs k
// columns, not I, and training keeps the products' k coordinates instead of a standardised copy of their features.
import { native } from '../native.js';
import { Rng } from '../data/random.js';
import type { Matrix } from '../data/types.js';

/** Power iterations: enough that the basis settles on the top of a slowly decaying spectrum (CNN features). */
const ITERATIONS = 3;

/** Rows read in blocks: a matrix's own rows, or rows computed on the fly (so no transformed copy is ever whole). */
export interface RowBlocks {
  rows: number;
  cols: number;
  /** Rows [first, first + count) as a row-major [count × cols] array. */
  read(first: number, count: number): Float32Array;
}

/** Rows per block: bounds the scratch ([block × I] read, [block × k] scores) on large catalogues. */
export const BLOCK = 4096;

export function matrixBlocks(m: Matrix): RowBlocks {
  return { rows: m.rows, cols: m.cols, read: (first, count) => m.data.subarray(first * m.cols, (first + count) * m.cols) };
}

/**
 * P [cols × k], row-major with orthonormal columns, spanning approximately the top-k right singular vectors of the
 * rows (uncentred: the mean direction is among them when it dominates). Columns beyond the rows' rank are zero.
 */
export function principalSubspace(m: RowBlocks, k: number, seed: number): Float32Array {
  const { rows: n, cols: I } = m;
  if (k > I) throw new Error(`principal subspace: ${k} directions asked of ${I} columns`);
  const basis = new Rng(seed).fillNormal(new Float32Array(I * k));
  orthonormalizeColumns(basis, I, k);
  const scores = new Float32Array(Math.min(n, BLOCK) * k);
  for (let it = 0; it < ITERATIONS; it++) {
    const next = new Float32Array(I * k);
    for (let r0 = 0; r0 < n; r0 += BLOCK) {
      const count = Math.min(BLOCK, n - r0);
      const block = m.read(r0, count);
      native.sgemm(false, false, count, k, I, 1, block, I, basis, k, 0, scores, k);   // Y = M·P
      native.sgemm(true, false, I, k, count, 1, block, I, scores, k, 1, next, k);      // P' += Mᵀ·Y
    }
    basis.set(next);
    orthonormalizeColumns(basis, I, k);
  }
  return basis;
}

/** Modified Gram–Schmidt in float64 on the columns of a row-major [rows × k] matrix; dependent columns become zero. */
export function orthonormalizeColumns(a: Float32Array, rows: number, k: number): void {
  const columns = Array.from({ length: k }, (_, j) => Float64Array.from({ length: rows }, (_, r) => a[r * k + j]));
  for (let j = 0; j < k; j++) {
    const c = columns[j];
    const before = Math.sqrt(dot(c, c));
    for (let i = 0; i < j; i++) {
      const r = dot(columns[i], c);
      if (r !== 0) for (let t = 0; t < rows; t++) c[t] -= r * columns[i][t];
    }
    const norm = Math.sqrt(dot(c, c));
    // A column that was (numerically) in the span of the earlier ones carries no new direction.
    const scale = norm > 1e-6 * before && norm > 0 ? 1 / norm : 0;
    for (let t = 0; t < rows; t++) c[t] *= scale;
  }
  for (let j = 0; j < k; j++) for (let r = 0; r < rows; r++) a[r * k + j] = columns[j][r];
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let t = 0; t < a.length; t++) s += a[t] * b[t];
  return s;
}

/** The rows' coordinates in the subspace, z = f·P ([rows × k]), computed block by block. */
export function coordinates(m: RowBlocks, basis: Float32Array): Matrix {
  const I = m.cols;
  const k = basis.length / I;
  const out = new Float32Array(m.rows * k);
  for (let r0 = 0; r0 < m.rows; r0 += BLOCK) {
    const count = Math.min(BLOCK, m.rows - r0);
    native.sgemm(false, false, count, k, I, 1, m.read(r0, count), I, basis, k, 0, out.subarray(r0 * k, (r0 + count) * k), k);
  }
  return { data: out, rows: m.rows, cols: k };
}
