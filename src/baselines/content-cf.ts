// Content→CF, the classic content-based cold start (e.g. Gantner et al. 2010, "Learning attribute-to-feature
// mappings for cold-start recommendations"): a ridge regression W from a product's image features (plus an
// intercept) to its collaborative item vector, fitted on the warm products; cold products get ŷ_i = [f_i, 1]·W,
// warm products keep their own vectors, users keep theirs, and every product is ranked by x_u·y_i.
// The collaborative vectors are iALS's: a least-squares fit on all user–product cells is the regression target
// ridge expects (no sampling noise, no bias term that features could not explain), and iALS is tuned and
// fitted in seconds, so the map can be tuned on top of it on the same validation split.
import type { Features, Matrix, Split } from '../data/types.js';
import { gatherFeatures } from '../data/features.js';
import { native } from '../native.js';
import { number, option, type OptionSpec } from '../core/options.js';
import { IALS_OPTIONS, type IalsModel, type IalsOptions } from './ials.js';

/** iALS's options (the collaborative vectors) plus the map's ridge strength. */
export interface ContentCfOptions extends IalsOptions {
  /** μ = ridge · mean diag(FᵀF). */
  ridge: number;
}

/** Content→CF's options: iALS's table and the ridge strength (`vasg experiment auc` tunes both, CONTENT_CF_RIDGE). */
export const CONTENT_CF_OPTIONS: ReadonlyArray<OptionSpec<ContentCfOptions>> = [
  ...ialsRows((key) => key !== 'seed' && key !== 'threads'),
  option<ContentCfOptions, 'ridge'>('ridge', '--ridge <x>', 'ridge strength of the feature map, relative to the mean diagonal of FᵀF', 1, number(1e-9, 1e9)),
  ...ialsRows((key) => key === 'seed' || key === 'threads'),
] as ReadonlyArray<OptionSpec<ContentCfOptions>>;

/** Rows of iALS's table (the same flags, defaults and checks) as rows of Content→CF's. */
function ialsRows(keep: (key: string) => boolean): Array<OptionSpec<ContentCfOptions>> {
  return (IALS_OPTIONS as unknown as ReadonlyArray<OptionSpec<ContentCfOptions>>).filter((o) => keep(String(o.key)));
}

/** Ridge strengths tried, relative to the mean diagonal of FᵀF (so the grid does not depend on the features' scale). */
export const CONTENT_CF_RIDGE = [1e-3, 1e-2, 1e-1, 1, 10, 100];

/** Rows gathered per BLAS call when accumulating FᵀF: keeps the copy small on 4096-d features. */
const BLOCK = 2048;

/** The ridge problem's sufficient statistics over the warm rows: FᵀF, FᵀY, Σf, Σy and the row count. */
export interface RidgeSystem {
  d: number;
  k: number;
  FtF: Float32Array;
  FtY: Float32Array;
  sumF: Float64Array;
  sumY: Float64Array;
  rows: number;
}

/** Accumulates the normal equations block by block (one BLAS call per block): computed once per tuning grid. */
export function ridgeSystem(features: Features, targets: Matrix, rows: Int32Array): RidgeSystem {
  if (features.rows !== targets.rows) throw new Error(`Content→CF: ${features.rows} feature rows but ${targets.rows} target rows`);
  if (rows.length === 0) throw new Error('Content→CF: no warm product to fit the map on');
  const d = features.cols;
  const k = targets.cols;
  const system: RidgeSystem = { d, k, FtF: new Float32Array(d * d), FtY: new Float32Array(d * k), sumF: new Float64Array(d), sumY: new Float64Array(k), rows: rows.length };
  const Fb = new Float32Array(Math.min(BLOCK, rows.length) * d);
  const Yb = new Float32Array(Math.min(BLOCK, rows.length) * k);
  for (let r0 = 0; r0 < rows.length; r0 += BLOCK) {
    const b = Math.min(BLOCK, rows.length - r0);
    gatherFeatures(features, rows.subarray(r0, r0 + b), Fb);
    for (let r = 0; r < b; r++) {
      const i = rows[r0 + r];
      Yb.set(targets.data.subarray(i * k, (i + 1) * k), r * k);
      for (let c = 0; c < d; c++) system.sumF[c] += Fb[r * d + c];
      for (let c = 0; c < k; c++) system.sumY[c] += targets.data[i * k + c];
    }
    native.sgemm(true, false, d, d, b, 1, Fb, d, Fb, d, 1, system.FtF, d);
    native.sgemm(true, false, d, k, b, 1, Fb, d, Yb, k, 1, system.FtY, k);
  }
  return system;
}

/**
 * W [(d + 1) × k] minimising Σ_rows ‖[f_i, 1]·W − y_i‖² + μ‖W_features‖² with μ = ridge·mean diag(FᵀF)
 * (the intercept row is not penalised), by Cholesky on the normal equations.
 */
export function solveRidge(system: RidgeSystem, ridge: number): Matrix {
  if (!(ridge > 0) || !Number.isFinite(ridge)) throw new Error(`Content→CF: ridge must be a positive number, got ${ridge}`);
  const { d, k, FtF, FtY, sumF, sumY } = system;
  let trace = 0;
  for (let c = 0; c < d; c++) trace += FtF[c * d + c];
  const mu = ridge * Math.max(trace / d, 1e-12);
  const n = d + 1;
  const A = new Float32Array(n * n);
  const W = new Float32Array(n * k);
  for (let a = 0; a < d; a++) {
    A.set(FtF.subarray(a * d, (a + 1) * d), a * n);
    A[a * n + a] += mu;
    A[a * n + d] = A[d * n + a] = sumF[a];
    W.set(FtY.subarray(a * k, (a + 1) * k), a * k);
  }
  A[d * n + d] = system.rows;
  for (let c = 0; c < k; c++) W[d * k + c] = sumY[c];
  native.choleskySolve(A, n, W, k);
  return { data: W, rows: n, cols: k };
}

/** The ridge map from `features` to `targets` fitted on `rows`. */
export function fitRidge(features: Matrix, targets: Matrix, rows: Int32Array, ridge: number): Matrix {
  return solveRidge(ridgeSystem(features, targets, rows), ridge);
}

/** The warm products' rows of the split. */
export const warmRows = (split: Split) => Int32Array.from(split.itemIds.keys()).filter((i) => split.warm[i] === 1);

/** The fitted map and every product's vector: warm products keep `model`'s, cold ones get [f_i, 1]·W. */
export interface ContentCfItems {
  items: Matrix;
  /** W [(d + 1) × k]: rows 0…d−1 multiply the features, row d is the intercept. */
  W: Matrix;
}

/** Every product's vector from the iALS `model` and the ridge map. `system`: ridgeSystem of the same model and split. */
export function contentCfItems(model: IalsModel, split: Split, ridge: number,
  system = ridgeSystem(split.features, model.items, warmRows(split))): ContentCfItems {
  const { items } = model;
  const k = items.cols;
  const d = split.features.cols;
  const coldRows: number[] = [];
  for (let i = 0; i < items.rows; i++) if (!split.warm[i]) coldRows.push(i);
  const W = solveRidge(system, ridge);
  const out = new Float32Array(items.data);
  // A block of cold products at a time: [f, 1]·W, their features widened per block (float16) and never all copied.
  const block = Math.min(BLOCK, coldRows.length);
  const gathered = new Float32Array(block * d);
  const coldF = new Float32Array(block * (d + 1));
  const predicted = new Float32Array(block * k);
  for (let r0 = 0; r0 < coldRows.length; r0 += BLOCK) {
    const b = Math.min(BLOCK, coldRows.length - r0);
    gatherFeatures(split.features, coldRows.slice(r0, r0 + b), gathered);
    for (let r = 0; r < b; r++) {
      coldF.set(gathered.subarray(r * d, (r + 1) * d), r * (d + 1));
      coldF[r * (d + 1) + d] = 1;
    }
    native.sgemm(false, false, b, k, d + 1, 1, coldF, d + 1, W.data, k, 0, predicted, k);
    for (let r = 0; r < b; r++) out.set(predicted.subarray(r * k, (r + 1) * k), coldRows[r0 + r] * k);
  }
  return { items: { data: out, rows: items.rows, cols: k }, W };
}
