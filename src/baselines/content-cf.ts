// Content→CF, the classic content-based cold start (e.g. Gantner et al. 2010, "Learning attribute-to-feature
// mappings for cold-start recommendations"): a ridge regression W from a product's image features (plus an
// intercept) to its collaborative item vector, fitted on the warm products; cold products get ŷ_i = [f_i, 1]·W,
// warm products keep their own vectors, users keep theirs, and every product is ranked by x_u·y_i.
// The collaborative vectors are iALS's: a least-squares fit on all user–product cells is the regression target
// ridge expects (no sampling noise, no bias term that features could not explain), and iALS is tuned and
// fitted in seconds, so the map can be tuned on top of it on the same validation split.
import type { Matrix, Split } from '../data/types.js';
import { native } from '../native.js';
import { silentProgress, type Progress } from '../progress.js';
import type { FactorScorer } from '../eval/auc.js';
import { fitIals, tunedIals, type IalsModel, type IalsOptions } from './ials.js';
import { cachedValidation, coldAuc, memoSelect, selectOnValidation } from './select.js';

/** Ridge strengths tried, relative to the mean diagonal of FᵀF (so the grid does not depend on the features' scale). */
export const CONTENT_CF_RIDGE = [1e-3, 1e-2, 1e-1, 1, 10];

/** Rows gathered per BLAS call when accumulating FᵀF: keeps the copy small on 4096-d features. */
const BLOCK = 2048;

/**
 * W [(d + 1) × k] minimising Σ_{i ∈ rows} ‖[f_i, 1]·W − y_i‖² + μ‖W_features‖² with μ = ridge·mean diag(FᵀF)
 * (the intercept row is not penalised). Normal equations accumulated block by block, solved by Cholesky.
 */
export function fitRidge(features: Matrix, targets: Matrix, rows: Int32Array, ridge: number): Matrix {
  if (!(ridge > 0) || !Number.isFinite(ridge)) throw new Error(`Content→CF: ridge must be a positive number, got ${ridge}`);
  if (features.rows !== targets.rows) throw new Error(`Content→CF: ${features.rows} feature rows but ${targets.rows} target rows`);
  if (rows.length === 0) throw new Error('Content→CF: no warm product to fit the map on');
  const d = features.cols;
  const k = targets.cols;
  const FtF = new Float32Array(d * d);
  const FtY = new Float32Array(d * k);
  const sumF = new Float64Array(d);
  const sumY = new Float64Array(k);
  const Fb = new Float32Array(Math.min(BLOCK, rows.length) * d);
  const Yb = new Float32Array(Math.min(BLOCK, rows.length) * k);
  for (let r0 = 0; r0 < rows.length; r0 += BLOCK) {
    const b = Math.min(BLOCK, rows.length - r0);
    for (let r = 0; r < b; r++) {
      const i = rows[r0 + r];
      Fb.set(features.data.subarray(i * d, (i + 1) * d), r * d);
      Yb.set(targets.data.subarray(i * k, (i + 1) * k), r * k);
      for (let c = 0; c < d; c++) sumF[c] += features.data[i * d + c];
      for (let c = 0; c < k; c++) sumY[c] += targets.data[i * k + c];
    }
    native.sgemm(true, false, d, d, b, 1, Fb, d, Fb, d, 1, FtF, d);
    native.sgemm(true, false, d, k, b, 1, Fb, d, Yb, k, 1, FtY, k);
  }
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
  A[d * n + d] = rows.length;
  for (let c = 0; c < k; c++) W[d * k + c] = sumY[c];
  native.choleskySolve(A, n, W, k);
  return { data: W, rows: n, cols: k };
}

/** Warm products keep `model`'s vectors; cold ones get [f_i, 1]·W. Users are iALS's. */
export function contentCfScorer(model: IalsModel, split: Split, ridge: number, name = 'Content→CF'): FactorScorer {
  const { items } = model;
  const k = items.cols;
  const d = split.features.cols;
  const warmRows: number[] = [];
  const coldRows: number[] = [];
  for (let i = 0; i < items.rows; i++) (split.warm[i] ? warmRows : coldRows).push(i);
  const W = fitRidge(split.features, items, Int32Array.from(warmRows), ridge);
  const out = new Float32Array(items.data);
  const coldF = new Float32Array(coldRows.length * (d + 1));
  coldRows.forEach((i, r) => {
    coldF.set(split.features.data.subarray(i * d, (i + 1) * d), r * (d + 1));
    coldF[r * (d + 1) + d] = 1;
  });
  const predicted = new Float32Array(coldRows.length * k);
  if (coldRows.length > 0) native.sgemm(false, false, coldRows.length, k, d + 1, 1, coldF, d + 1, W.data, k, 0, predicted, k);
  coldRows.forEach((i, r) => out.set(predicted.subarray(r * k, (r + 1) * k), i * k));
  return { name, users: model.users, items: { data: out, rows: items.rows, cols: k } };
}

/**
 * iALS tuned and fitted as for its own row, then the ridge strength chosen on the validation split (cold AUC:
 * the map only matters for cold products) with iALS refitted there, and the map fitted on the whole training set.
 */
export async function tunedContentCf(split: Split, options: Partial<IalsOptions> & { tuneSeed: number; threads: number },
  progress: Progress = silentProgress, grid = CONTENT_CF_RIDGE): Promise<{ scorer: FactorScorer; trials: Array<{ setting: number; score: number }> }> {
  const { model } = await tunedIals(split, options, progress);
  const { tuneSeed, threads } = options;
  const validation = cachedValidation(split, tuneSeed);
  const cf = { ...model.options, seed: tuneSeed };
  const { best, trials } = await memoSelect(`Content→CF ${JSON.stringify({ cf, grid })}`, validation, async () => {
    const onValidation = fitIals(validation, cf);
    return selectOnValidation(validation, grid, async (v, ridge) => contentCfScorer(onValidation, v, ridge), coldAuc, threads, progress, 'Content→CF ridge');
  });
  return { scorer: contentCfScorer(model, split, best), trials };
}
