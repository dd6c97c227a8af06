// Small row operations on dense matrices used around the native kernels (gather, scale, normalise).
import type { Features, Matrix } from '../data/types.js';
import { forEachFeatureBlock, gatherFeatures } from '../data/features.js';
import { native } from '../native.js';
import { largeFloat32Array } from '../data/memory.js';

export function zeros(rows: number, cols: number): Matrix {
  return { data: largeFloat32Array(rows * cols), rows, cols };
}

/** Copies the listed rows of `m` into `out` (row-major, rows.length × m.cols). */
export function gatherRows(m: Matrix, rows: ArrayLike<number>, out = largeFloat32Array(rows.length * m.cols)): Float32Array {
  for (let r = 0; r < rows.length; r++) {
    const start = rows[r] * m.cols;
    out.set(m.data.subarray(start, start + m.cols), r * m.cols);
  }
  return out;
}

/**
 * Unit-length float32 copy of every row (zero rows stay zero): cosine similarity becomes a dot product. float16
 * features are widened a block at a time, so the copy is the only float32 matrix.
 */
export function normalizeRows(m: Features): Matrix {
  const { cols } = m;
  const out = largeFloat32Array(m.rows * cols);
  forEachFeatureBlock(m, (data, r0, rows) => {
    for (let r = 0; r < rows; r++) {
      const start = r * cols;
      let norm = 0;
      for (let c = 0; c < cols; c++) norm += data[start + c] ** 2;
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let c = 0; c < cols; c++) out[(r0 + r) * cols + c] = data[start + c] * scale;
    }
  });
  return { data: out, rows: m.rows, cols };
}

/** Per-row min–max scaling to [0, 1], as the reference implementation scales image features. */
export function minMaxRows(m: Matrix): Matrix {
  const out = m.data.slice();
  minMaxInPlace(out, m.cols);
  return { data: out, rows: m.rows, cols: m.cols };
}

/** minMaxRows on row-major `data` of `cols` columns, in place. */
export function minMaxInPlace(data: Float32Array, cols: number): void {
  for (let start = 0; start < data.length; start += cols) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = 0; c < cols; c++) {
      const v = data[start + c];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const scale = hi > lo ? 1 / (hi - lo) : 0;
    for (let c = 0; c < cols; c++) data[start + c] = (data[start + c] - lo) * scale;
  }
}

/**
 * Feature rows fetched on demand: training reads features only by rows (a batch, the warm or the cold products),
 * so a per-row transformation is applied to each gathered row instead of to a whole copy of the matrix.
 */
export interface RowSource {
  readonly rows: number;
  readonly cols: number;
  /** The listed rows, transformed, as a fresh [rows.length × cols] array. */
  gather(rows: ArrayLike<number>): Float32Array;
}

/**
 * The rows of `m` as float32 (float16 features widened as they are gathered), min–max scaled per row when `scale`
 * (the same values as minMaxRows(m), without its copy).
 */
export function featureRows(m: Features, scale: boolean): RowSource {
  return {
    rows: m.rows,
    cols: m.cols,
    gather(rows) {
      const out = gatherFeatures(m, rows);
      if (scale) minMaxInPlace(out, m.cols);
      return out;
    },
  };
}

/**
 * out = alpha·F·W, [F.rows × n], with W [F.cols × n] (or [n × F.cols] when `transW`), one GEMM per block of F's rows
 * (float16 widened per block; a float32 F is one block, one GEMM).
 */
export function featuresTimes(features: Features, W: Float32Array, n: number, out: Float32Array, transW = false, alpha = 1): void {
  const { cols } = features;
  forEachFeatureBlock(features, (block, r0, rows) => {
    native.sgemm(false, transW, rows, n, cols, alpha, block, cols, W, transW ? cols : n, 0, out.subarray(r0 * n, (r0 + rows) * n), n);
  });
}

/** Index of the first NaN or ±Infinity in `data`, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let k = 0; k < data.length; k++) if (!Number.isFinite(data[k])) return k;
  return -1;
}

/**
 * Throws naming `what` and the first non-finite position, so NaN or overflow never reaches a saved model or a metric.
 * `firstRow`: the row number of data's first row (a block of a larger matrix).
 */
export function assertFinite(what: string, data: ArrayLike<number>, cols = 1, firstRow = 0): void {
  const k = firstNonFinite(data);
  if (k >= 0) throw new Error(`${what}: non-finite value ${data[k]} at row ${firstRow + Math.floor(k / cols)}, column ${k % cols}`);
}
