// iALS (Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit Feedback Datasets"): minimise
// Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²) over *all* user–product cells, p_ui = 1 if u bought i,
// c_ui = 1 + α·r_ui (r_ui: u's training purchases of i). Alternating least squares with the YᵀY trick: each
// row's normal equations (YᵀY + Yᵀ(C_u − I)Y + λI) x_u = YᵀC_u p_u cost O(k² + n_u·k) per conjugate-gradient
// step, warm-started from the previous sweep (the `implicit` library's solver: 3 steps suffice).
// Products without training purchases (cold) have no data, so their factors are 0 and the scorer puts them
// below every warm product; iALS has no cold-product model, so its cold AUC and cold top-k are not reported.
import type { Matrix, Split } from '../data/types.js';
import { Rng } from '../data/random.js';
import { native } from '../native.js';
import { silentProgress, type Progress } from '../progress.js';
import { integer, number, option, resolveOptions, seedOption, threadsOption, type OptionSpec } from '../core/options.js';
import { withBlasThreads } from '../core/blas.js';

export interface IalsOptions {
  /** Latent factors k. */
  factors: number;
  /** λ on every user and product factor. */
  reg: number;
  /** Confidence slope: c_ui = 1 + α·r_ui. */
  alpha: number;
  /** ALS sweeps (users, then products). */
  iterations: number;
  /** Conjugate-gradient steps per row and sweep. */
  cgSteps: number;
  seed: number;
  /** OpenBLAS threads for the YᵀY products (the row solves are plain TypeScript). */
  threads: number;
}

/** iALS's options; `vasg experiment auc` tunes factors, reg and alpha on a validation split (IALS_GRID). */
export const IALS_OPTIONS: ReadonlyArray<OptionSpec<IalsOptions>> = [
  option<IalsOptions, 'factors'>('factors', '--factors <n>', 'latent factors k of x_u, y_i', 64, integer(1, 1024)),
  option<IalsOptions, 'reg'>('reg', '--reg <x>', 'L2 weight λ on every user and product factor', 10, number(1e-9, 1e6)),
  option<IalsOptions, 'alpha'>('alpha', '--alpha <x>', 'confidence slope: c_ui = 1 + α·(purchases of i by u)', 2, number(0, 1e6)),
  option<IalsOptions, 'iterations'>('iterations', '--iterations <n>', 'alternating least-squares sweeps (users, then products)', 15, integer(0, 1000)),
  option<IalsOptions, 'cgSteps'>('cgSteps', '--cg-steps <n>', 'conjugate-gradient steps per row and sweep', 3, integer(1, 1024)),
  seedOption<IalsOptions>(), threadsOption<IalsOptions>(),
] as ReadonlyArray<OptionSpec<IalsOptions>>;

/** The grid tried on the validation split (18 fits). */
export const IALS_GRID = {
  factors: [32, 64],
  reg: [1, 10, 100],
  alpha: [0.5, 2, 8],
};

/** Purchases as CSR rows (users over products, or products over users) with their counts r. */
export interface CountRows {
  indptr: Int32Array;
  indices: Int32Array;
  counts: Float32Array;
}

/** Training purchases grouped by `rows` (users or products) over `cols`, repeated pairs summed into counts. */
export function countRows(rows: Int32Array, cols: Int32Array, nRows: number): CountRows {
  const per: Array<Map<number, number>> = Array.from({ length: nRows }, () => new Map());
  for (let e = 0; e < rows.length; e++) per[rows[e]].set(cols[e], (per[rows[e]].get(cols[e]) ?? 0) + 1);
  const indptr = new Int32Array(nRows + 1);
  per.forEach((m, r) => (indptr[r + 1] = indptr[r] + m.size));
  const indices = new Int32Array(indptr[nRows]);
  const counts = new Float32Array(indptr[nRows]);
  per.forEach((m, r) => {
    const sorted = Array.from(m).sort((a, b) => a[0] - b[0]);
    sorted.forEach(([c, n], k) => {
      indices[indptr[r] + k] = c;
      counts[indptr[r] + k] = n;
    });
  });
  return { indptr, indices, counts };
}

/** Fitted factors: score(u, i) = users[u]·items[i]. */
export interface IalsModel {
  options: IalsOptions;
  users: Matrix;
  items: Matrix;
}

/** YᵀY + λI in float64 (k × k), through one BLAS call. */
function gramPlusReg(Y: Float32Array, rows: number, k: number, reg: number): Float64Array {
  const g = new Float32Array(k * k);
  if (rows > 0) native.sgemm(true, false, k, k, rows, 1, Y, k, Y, k, 0, g, k);
  const out = Float64Array.from(g);
  for (let d = 0; d < k; d++) out[d * k + d] += reg;
  return out;
}

/**
 * One half-sweep: every row x_r of X re-solved against the fixed Y by `cgSteps` conjugate-gradient steps from
 * its current value. A row without purchases has right-hand side 0, so its solution is exactly 0.
 */
export function solveRows(X: Float32Array, Y: Float32Array, nY: number, rows: CountRows, k: number, reg: number, alpha: number, cgSteps: number): void {
  const YtY = gramPlusReg(Y, nY, k, reg);
  const x = new Float64Array(k);
  const r = new Float64Array(k);
  const p = new Float64Array(k);
  const Ap = new Float64Array(k);
  const nRows = rows.indptr.length - 1;
  // A·v = (YᵀY + λI)·v + Σ_i (c_i − 1)(y_i·v) y_i over the row's purchases.
  const times = (v: Float64Array, out: Float64Array, start: number, end: number) => {
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let b = 0; b < k; b++) s += YtY[a * k + b] * v[b];
      out[a] = s;
    }
    for (let e = start; e < end; e++) {
      const y = rows.indices[e] * k;
      let dot = 0;
      for (let d = 0; d < k; d++) dot += Y[y + d] * v[d];
      const w = alpha * rows.counts[e] * dot;
      for (let d = 0; d < k; d++) out[d] += w * Y[y + d];
    }
  };
  for (let row = 0; row < nRows; row++) {
    const start = rows.indptr[row];
    const end = rows.indptr[row + 1];
    const xs = X.subarray(row * k, (row + 1) * k);
    if (start === end) {
      xs.fill(0);
      continue;
    }
    for (let d = 0; d < k; d++) x[d] = xs[d];
    // r = b − A·x, b = Σ_i c_i y_i.
    times(x, r, start, end);
    for (let d = 0; d < k; d++) r[d] = -r[d];
    for (let e = start; e < end; e++) {
      const y = rows.indices[e] * k;
      const c = 1 + alpha * rows.counts[e];
      for (let d = 0; d < k; d++) r[d] += c * Y[y + d];
    }
    p.set(r);
    let rs = dot64(r, r);
    for (let step = 0; step < cgSteps && rs > 1e-20; step++) {
      times(p, Ap, start, end);
      const a = rs / dot64(p, Ap);
      for (let d = 0; d < k; d++) {
        x[d] += a * p[d];
        r[d] -= a * Ap[d];
      }
      const next = dot64(r, r);
      for (let d = 0; d < k; d++) p[d] = r[d] + (next / rs) * p[d];
      rs = next;
    }
    for (let d = 0; d < k; d++) xs[d] = x[d];
  }
}

function dot64(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d] * b[d];
  return s;
}

/** Initial factors ~ N(0, 0.01²), seeded; then `iterations` sweeps of users then products. */
export function fitIals(split: Split, options: Partial<IalsOptions> = {}, progress: Progress = silentProgress): IalsModel {
  const o = resolveOptions('iALS', IALS_OPTIONS, options);
  return withBlasThreads(o.threads, () => sweeps(split, o, progress));
}

function sweeps(split: Split, o: IalsOptions, progress: Progress): IalsModel {
  const nUsers = split.userIds.length;
  const nItems = split.itemIds.length;
  const k = o.factors;
  const rng = new Rng(o.seed);
  const X = rng.fillNormal(new Float32Array(nUsers * k), 0.01);
  const Y = rng.fillNormal(new Float32Array(nItems * k), 0.01);
  const byUser = countRows(split.train.users, split.train.items, nUsers);
  const byItem = countRows(split.train.items, split.train.users, nItems);
  progress.start('iALS', o.iterations);
  for (let it = 0; it < o.iterations; it++) {
    solveRows(X, Y, nItems, byUser, k, o.reg, o.alpha, o.cgSteps);
    solveRows(Y, X, nUsers, byItem, k, o.reg, o.alpha, o.cgSteps);
    progress.update(it + 1);
  }
  progress.finish();
  return { options: o, users: { data: X, rows: nUsers, cols: k }, items: { data: Y, rows: nItems, cols: k } };
}

/** The score cold products get: far below any warm score (|x_u·y_i| is O(1) by construction: targets are 0/1). */
export const COLD_FLOOR = -1e4;

/** Factors [x_u, 1]·[y_i, 0 | COLD_FLOOR]: warm products by x_u·y_i, cold ones tied at the bottom. */
export function ialsFactors(model: IalsModel, warm: Uint8Array): { users: Matrix; items: Matrix } {
  const { users, items } = model;
  const k = users.cols;
  const U = new Float32Array(users.rows * (k + 1));
  const V = new Float32Array(items.rows * (k + 1));
  for (let u = 0; u < users.rows; u++) {
    U.set(users.data.subarray(u * k, (u + 1) * k), u * (k + 1));
    U[u * (k + 1) + k] = 1;
  }
  for (let i = 0; i < items.rows; i++) {
    V.set(items.data.subarray(i * k, (i + 1) * k), i * (k + 1));
    V[i * (k + 1) + k] = warm[i] ? 0 : COLD_FLOOR;
  }
  return { users: { data: U, rows: users.rows, cols: k + 1 }, items: { data: V, rows: items.rows, cols: k + 1 } };
}

/** What the validation split tunes. */
export type IalsSetting = Pick<IalsOptions, 'factors' | 'reg' | 'alpha'>;

/** Every combination of IALS_GRID, in a fixed order. */
export function ialsGrid(grid = IALS_GRID): IalsSetting[] {
  return grid.factors.flatMap((factors) => grid.reg.flatMap((reg) => grid.alpha.map((alpha) => ({ factors, reg, alpha }))));
}
