// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): an item × item weight matrix in
// closed form, B = I − P·diagMat(1/diag(P)) with P = (XᵀX + λI)⁻¹ and diag(B) = 0; score(u, ·) = X_u·B,
// X the binary user × product purchase matrix. Scores are not low-rank, so the scorer sums the B rows of a
// user's products per block of users instead of materialising n_users × n_items factors.
//
// Bounds: the Gram matrix is n² float32 and its inversion ≈ n³ flops, so only the `maxItems` most-bought warm
// products with at least `minCount` buyers are modelled (default 10 000: 400 MB, ~10¹² flops). Products
// outside that set (rarer warm ones, every cold one) get no score (−Infinity: below every modelled product,
// tied among themselves); EASE has no cold-product model, so its cold AUC and cold top-k are not reported.
import type { Split } from '../data/types.js';
import { native } from '../native.js';
import { silentProgress, type Progress } from '../progress.js';
import type { BlockScorer } from '../core/factors.js';
import { integer, number, option, resolveOptions, threadsOption, type OptionSpec } from '../core/options.js';

export interface EaseOptions {
  /** L2 weight λ added to the Gram matrix's diagonal. */
  lambda: number;
  /** Cap on the modelled products (the most bought first): memory n² × 4 bytes, time ≈ n³ flops. */
  maxItems: number;
  /** Products bought by fewer distinct users in training are not modelled. */
  minCount: number;
  /** OpenBLAS threads for the inversion. */
  threads: number;
}

/** EASE's options (`lambda`'s default is only a starting point: the experiment tunes it, EASE_LAMBDAS). */
export const EASE_OPTIONS: ReadonlyArray<OptionSpec<EaseOptions>> = [
  option<EaseOptions, 'lambda'>('lambda', '--lambda <x>', 'L2 weight λ on the Gram matrix\'s diagonal', 100, number(1e-6, 1e9)),
  option<EaseOptions, 'maxItems'>('maxItems', '--max-items <n>', 'modelled products, the most bought first (n² float32 must stay addressable)', 10_000, integer(1, 46_340)),
  option<EaseOptions, 'minCount'>('minCount', '--min-count <n>', 'distinct buyers a product needs to be modelled', 1, integer(1, 2 ** 31 - 1)),
  threadsOption<EaseOptions>(),
] as ReadonlyArray<OptionSpec<EaseOptions>>;

/** λ values tried on the validation split (Steck uses 200–3000 on data sets with 10⁵–10⁶ users; ours are smaller). */
export const EASE_LAMBDAS = [10, 30, 100, 300, 1000, 3000, 10000];

/** A fitted EASE model: B over the modelled products only. */
export interface EaseModel {
  lambda: number;
  /** Split item index of each modelled product (ascending); B's rows and columns follow this order. */
  items: Int32Array;
  /** B, row-major [items.length × items.length], zero diagonal. */
  B: Float32Array;
  /** Each user's distinct modelled training products, as positions in `items` (CSR over users). */
  userIndptr: Int32Array;
  userItems: Int32Array;
  nItems: number;
}

/** The products EASE models: warm, bought by ≥ minCount distinct users, the maxItems most bought (ties: lower index). */
export function easeItems(buyers: Int32Array, minCount: number, maxItems: number): Int32Array {
  const eligible: number[] = [];
  for (let i = 0; i < buyers.length; i++) if (buyers[i] >= minCount) eligible.push(i);
  eligible.sort((a, b) => buyers[b] - buyers[a] || a - b);
  return Int32Array.from(eligible.slice(0, maxItems)).sort();
}

/** Each user's distinct training products mapped through `position` (−1: not modelled), as CSR. */
function userRows(split: Split, position: Int32Array): { indptr: Int32Array; indices: Int32Array } {
  const perUser: Array<Set<number>> = Array.from({ length: split.userIds.length }, () => new Set());
  const { users, items } = split.train;
  for (let e = 0; e < users.length; e++) if (position[items[e]] >= 0) perUser[users[e]].add(position[items[e]]);
  const indptr = new Int32Array(perUser.length + 1);
  perUser.forEach((s, u) => (indptr[u + 1] = indptr[u] + s.size));
  const indices = new Int32Array(indptr[perUser.length]);
  perUser.forEach((s, u) => indices.set(Array.from(s).sort((a, b) => a - b), indptr[u]));
  return { indptr, indices };
}

/** Fits B on the split's training purchases (binary: repeated purchases count once). */
export async function fitEase(split: Split, options: Partial<EaseOptions> = {}, progress: Progress = silentProgress): Promise<EaseModel> {
  const o = resolveOptions('EASE', EASE_OPTIONS, options);
  const nItems = split.itemIds.length;
  const position = new Int32Array(nItems).fill(-1);
  const all = userRows(split, Int32Array.from({ length: nItems }, (_, i) => i));
  const buyers = new Int32Array(nItems);
  for (const i of all.indices) buyers[i]++;
  const items = easeItems(buyers, o.minCount, o.maxItems);
  if (items.length === 0) throw new Error(`EASE: no product has ${o.minCount} or more buyers in training`);
  items.forEach((i, k) => (position[i] = k));
  const { indptr, indices } = userRows(split, position);
  const n = items.length;
  progress.log(`EASE: ${n} products modelled (Gram matrix ${(n * n * 4 / 2 ** 20).toFixed(0)} MiB), λ = ${o.lambda}`);
  const G = new Float32Array(n * n);
  for (let u = 0; u + 1 < indptr.length; u++) {
    for (let a = indptr[u]; a < indptr[u + 1]; a++) {
      const row = indices[a] * n;
      for (let b = indptr[u]; b < indptr[u + 1]; b++) G[row + indices[b]] += 1;
    }
  }
  for (let k = 0; k < n; k++) G[k * n + k] += o.lambda;
  await native.easeWeights(G, n, o.threads); // sets OpenBLAS's threads for the call and restores them
  return { lambda: o.lambda, items, B: G, userIndptr: indptr, userItems: indices, nItems };
}

/** score(u, ·) = X_u·B on the modelled products (the sum of B's rows of u's products), −Infinity elsewhere. */
export function easeScorer(model: EaseModel, name = 'EASE'): BlockScorer {
  const { items, B, userIndptr, userItems, nItems } = model;
  const n = items.length;
  const row = new Float32Array(n);
  return {
    name,
    nUsers: userIndptr.length - 1,
    nItems,
    warmOnly: true,
    async scoreUsers(users) {
      const out = new Float32Array(users.length * nItems).fill(-Infinity);
      users.forEach((u, r) => {
        row.fill(0);
        for (let k = userIndptr[u]; k < userIndptr[u + 1]; k++) {
          const b = B.subarray(userItems[k] * n, (userItems[k] + 1) * n);
          for (let j = 0; j < n; j++) row[j] += b[j];
        }
        const base = r * nItems;
        for (let j = 0; j < n; j++) out[base + items[j]] = row[j];
      });
      return out;
    },
  };
}
