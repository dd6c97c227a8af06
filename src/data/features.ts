// Image features in memory in their storage type: a float32 matrix, or float16 bit patterns (half the bytes; Node 20
// has no Float16Array). Readers never widen a float16 matrix whole: they take float32 blocks of consecutive rows or
// listed rows, converted natively (src/native.ts: halfToFloat, gatherHalf), and a float32 matrix gives its blocks as
// views, so float32 data flows exactly as before.
import { native } from '../native.js';
import type { Features, HalfMatrix, Matrix } from './types.js';
import { floatToHalf, type NpyDtype } from './npy.js';
import { largeFloat32Array, largeUint16Array } from './memory.js';

export function isHalf(features: Features): features is HalfMatrix {
  return 'half' in features;
}

export function featureDtype(features: Features): NpyDtype {
  return isHalf(features) ? 'float16' : 'float32';
}

/** Rows [r0, r1) as float32: a view of a float32 matrix (no copy), or widened from float16 into `out`. */
export function featureBlock(features: Features, r0: number, r1: number, out?: Float32Array): Float32Array {
  const { cols } = features;
  if (!isHalf(features)) return features.data.subarray(r0 * cols, r1 * cols);
  const target = out ? out.subarray(0, (r1 - r0) * cols) : new Float32Array((r1 - r0) * cols);
  native.halfToFloat(features.half, r0 * cols, (r1 - r0) * cols, target);
  return target;
}

/** A fresh float32 copy of rows [r0, r1), which the caller may keep or change. */
export function copyFeatureRows(features: Features, r0: number, r1: number): Float32Array {
  return isHalf(features) ? featureBlock(features, r0, r1) : features.data.slice(r0 * features.cols, r1 * features.cols);
}

/** The listed rows as float32 ([rows.length × cols], into `out` when given). */
export function gatherFeatures(features: Features, rows: ArrayLike<number>, out: Float32Array = new Float32Array(rows.length * features.cols)): Float32Array {
  const { cols } = features;
  if (isHalf(features)) {
    native.gatherHalf(features.half, cols, rows instanceof Int32Array ? rows : Int32Array.from(rows), out);
    return out;
  }
  for (let r = 0; r < rows.length; r++) out.set(features.data.subarray(rows[r] * cols, (rows[r] + 1) * cols), r * cols);
  return out;
}

/**
 * Row differences of pairs as float32: row p of `out` ([count × cols]) = row first[p] − row second[p], in one native
 * pass over either storage type (the same values as gathering both sides and subtracting).
 */
export function featureDifferences(features: Features, first: Int32Array, second: Int32Array, count: number, out: Float32Array): Float32Array {
  native.pairDifferences(first.subarray(0, count), second.subarray(0, count), count, null, 0, isHalf(features) ? features.half : features.data, features.cols, features.rows, null, 1,
    out.subarray(0, count * features.cols));
  return out;
}

/** The listed rows (increasing) in the storage type; all rows: the features themselves. */
export function selectFeatureRows(features: Features, rows: readonly number[]): Features {
  if (rows.length === features.rows) return features;
  const { cols } = features;
  const source = isHalf(features) ? features.half : features.data;
  const out = isHalf(features) ? largeUint16Array(rows.length * cols) : largeFloat32Array(rows.length * cols);
  rows.forEach((r, k) => out.set(source.subarray(r * cols, (r + 1) * cols), k * cols));
  return out instanceof Uint16Array ? { half: out, rows: rows.length, cols } : { data: out, rows: rows.length, cols };
}

/** Rows per block when a whole float16 matrix is read (16 MiB of float32 at I = 4096). */
const FEATURE_BLOCK = 1024;

/**
 * Visits the rows in consecutive blocks of at most `blockRows` (float16: widened into one reused buffer, so a visitor
 * must not keep a block). `blockRows` defaults to FEATURE_BLOCK for float16 and to all rows for float32, whose
 * whole-matrix view then reaches the visitor as one block, as it did before features could be float16.
 */
export function forEachFeatureBlock(features: Features, visit: (block: Float32Array, r0: number, rows: number) => void,
  blockRows = isHalf(features) ? FEATURE_BLOCK : Math.max(1, features.rows)): void {
  const buffer = isHalf(features) ? new Float32Array(Math.min(blockRows, features.rows) * features.cols) : undefined;
  for (let r0 = 0; r0 < features.rows; r0 += blockRows) {
    const r1 = Math.min(features.rows, r0 + blockRows);
    visit(featureBlock(features, r0, r1, buffer), r0, r1 - r0);
  }
}

/**
 * The whole matrix as float32 (float16 widened into a new matrix, float32 as it is): only for a model whose item
 * factors are the features themselves (WBOI's saved model), which holds them whole either way.
 */
export function widenFeatures(features: Features): Matrix {
  const { rows, cols } = features;
  return isHalf(features) ? { data: featureBlock(features, 0, rows, largeFloat32Array(rows * cols)), rows, cols } : features;
}

/** A float32 matrix's values rounded to float16 as the writer rounds them (a float16 matrix made in memory, e.g. by tests). */
export function toHalf(matrix: Matrix): HalfMatrix {
  return { half: Uint16Array.from(matrix.data, floatToHalf), rows: matrix.rows, cols: matrix.cols };
}
