// The principal subspace of a feature matrix: an orthonormal basis P [I × k] of (approximately) its top-k right
// singular vectors, by randomised subspace iteration (Halko, Martinsson & Tropp 2011, alg. 4.4). Training stages that
// learn a linear map of 4096-wide features step by step (the ranking refinement's E) move it only within this
// subspace, so each step costs k columns, not I; on image features a few hundred directions hold most of the variance.
import { native } from '../native.js';
import { Rng } from '../data/random.js';
import type { Features } from '../data/types.js';
import { forEachFeatureBlock } from '../data/features.js';

/** Power iterations: enough that the basis settles on the top of a slowly decaying spectrum (CNN features). */
const ITERATIONS = 3;

/** Rows per block: bounds the scratch of scores ([block × k]) on large catalogues. */
const BLOCK = 4096;

/**
 * P [cols × k], row-major with orthonormal columns, spanning approximately the top-k right singular vectors of the
 * rows (uncentred: the mean direction is among them when it dominates). Columns beyond the rows' rank are zero.
 */
export function principalSubspace(m: Features, k: number, seed: number): Float32Array {
  const { rows: n, cols: I } = m;
  if (k > I) throw new Error(`principal subspace: ${k} directions asked of ${I} columns`);
  const basis = new Rng(seed).fillNormal(new Float32Array(I * k));
  orthonormalizeColumns(basis, I, k);
  const scores = new Float32Array(Math.min(n, BLOCK) * k);
  for (let it = 0; it < ITERATIONS; it++) {
    const next = new Float32Array(I * k);
    forEachFeatureBlock(m, (block, _r0, count) => {
      native.sgemm(false, false, count, k, I, 1, block, I, basis, k, 0, scores, k);   // Y = M·P
      native.sgemm(true, false, I, k, count, 1, block, I, scores, k, 1, next, k);      // P' += Mᵀ·Y
    }, BLOCK);
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
