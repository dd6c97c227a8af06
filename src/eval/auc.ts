// The paper's AUC (eq. 4) on T_warm and T_cold. Most methods are two factor matrices whose row dot
// products are their scores, so one native blocked GEMM ranks all candidates of all test users; a
// method whose scores are not low-rank (EASE: X_u·B) instead scores a block of users at a time.
import { native } from '../native.js';
import type { Matrix, Split } from '../data/types.js';
import { seenLists } from '../model/vasg-model.js';

/** A method's scores as factors: score(u, i) = users[u] · items[i]. */
export interface FactorScorer {
  name: string;
  users: Matrix;
  items: Matrix;
  /** The method has nothing of its own for cold products (they still compete as candidates): no cold AUC. */
  warmOnly?: boolean;
}

/**
 * A method's scores produced a block of users at a time, for models whose user × item scores are not a
 * product of narrow factors (EASE: the user's purchase row times an item × item matrix). Scores may be
 * −Infinity ("no score": ranked below everything, tied among themselves).
 */
export interface BlockScorer {
  name: string;
  nUsers: number;
  nItems: number;
  /** Scores of `users` against every item, row-major [users.length × nItems]. */
  scoreUsers(users: Int32Array): Promise<Float32Array>;
  /** As FactorScorer.warmOnly. */
  warmOnly?: boolean;
}

export type Scorer = FactorScorer | BlockScorer;

/** Users scored per scoreUsers call: a block's scores stay under ~64 MB whatever the catalogue. */
const blockRows = (nItems: number) => Math.max(1, Math.min(512, Math.floor((1 << 24) / Math.max(1, nItems))));

export interface WarmCold {
  warm: number;
  cold: number;
}

/** Leave-one-out metrics of one method, per test group. NaN where a group has no pairs (or the method no cold AUC). */
export interface AucResult extends WarmCold {
  /** Eq. 4 over T_warm ∪ T_cold with one ranking: the pair-weighted mean of warm and cold. */
  combined: number;
  /** Share of test products ranked in the top 20 of the user's candidates, and NDCG@20 (one relevant product). */
  recallAt20: WarmCold;
  ndcgAt20: WarmCold;
  /** Number of test pairs behind each value. */
  pairsWarm: number;
  pairsCold: number;
}

/** The cut-off of Recall@K and NDCG@K. */
export const TOP_K = 20;

/**
 * For each test pair (u, p): the fraction of candidates ranked below p, ties counting ½.
 * Candidates: every product (warm and cold) except p and the user's training products.
 */
export async function evaluateAuc(scorer: Scorer, split: Split, threads: number): Promise<AucResult> {
  const { seenIndptr, seenIndices } = seenLists(split.train, split.userIds.length);
  const perPair = 'scoreUsers' in scorer
    ? await blockPairAuc(scorer, split, seenIndptr, seenIndices)
    : await factorPairAuc(scorer, split, seenIndptr, seenIndices, threads);
  const candidates = Float64Array.from(split.test.users, (u) => split.itemIds.length - 1 - (seenIndptr[u + 1] - seenIndptr[u]));
  const result = rankingMetrics(perPair, candidates, split.test.items, split.warm);
  return scorer.warmOnly ? { ...result, cold: NaN, combined: NaN, recallAt20: { ...result.recallAt20, cold: NaN }, ndcgAt20: { ...result.ndcgAt20, cold: NaN } } : result;
}

async function factorPairAuc(scorer: FactorScorer, split: Split, seenIndptr: Int32Array, seenIndices: Int32Array, threads: number): Promise<Float64Array> {
  const { users, items } = scorer;
  if (users.cols !== items.cols) throw new Error(`${scorer.name}: user and item factors differ in width (${users.cols} vs ${items.cols})`);
  if (users.rows !== split.userIds.length || items.rows !== split.itemIds.length) {
    throw new Error(`${scorer.name}: factors cover ${users.rows} users × ${items.rows} items, the split has ${split.userIds.length} × ${split.itemIds.length}`);
  }
  return native.pairAuc(users.data, items.data, users.cols, split.test.users, split.test.items, seenIndptr, seenIndices, threads);
}

/** native.pairAuc's count (candidates: all items but the test item and the user's exclusions; ties ½) over score blocks. */
export async function blockPairAuc(scorer: BlockScorer, split: Split, seenIndptr: Int32Array, seenIndices: Int32Array): Promise<Float64Array> {
  const n = split.itemIds.length;
  if (scorer.nUsers !== split.userIds.length || scorer.nItems !== n) {
    throw new Error(`${scorer.name}: scores cover ${scorer.nUsers} users × ${scorer.nItems} items, the split has ${split.userIds.length} × ${n}`);
  }
  const { users, items } = split.test;
  const out = new Float64Array(users.length);
  const B = blockRows(n);
  for (let j0 = 0; j0 < users.length; j0 += B) {
    const block = users.subarray(j0, Math.min(users.length, j0 + B));
    const scores = await scorer.scoreUsers(block);
    if (scores.length !== block.length * n) throw new Error(`${scorer.name}: scoreUsers returned ${scores.length} scores for ${block.length} users × ${n} items`);
    for (let r = 0; r < block.length; r++) {
      const row = scores.subarray(r * n, (r + 1) * n);
      const u = block[r];
      const t = items[j0 + r];
      const st = row[t];
      let less = 0;
      let equal = 0;
      for (let i = 0; i < n; i++) {
        if (row[i] < st) less++;
        else if (row[i] === st) equal++;
      }
      equal--; // the test item itself
      let excluded = 0;
      for (let k = seenIndptr[u]; k < seenIndptr[u + 1]; k++) {
        const e = seenIndices[k];
        if (e === t) continue;
        excluded++;
        if (row[e] < st) less--;
        else if (row[e] === st) equal--;
      }
      const candidates = n - 1 - excluded;
      out[j0 + r] = candidates > 0 ? (less + equal / 2) / candidates : NaN;
    }
  }
  return out;
}

/**
 * Aggregates per-pair AUCs into warm/cold/combined AUC, Recall@20 and NDCG@20. A pair's rank
 * (0 = first) is the number of candidates above the test product plus half the ties, i.e.
 * candidates·(1 − auc): the expected position under a random order of tied scores.
 */
export function rankingMetrics(perPair: Float64Array, candidates: Float64Array, testItems: Int32Array, warm: Uint8Array): AucResult {
  const sums = { warm: new Float64Array(4), cold: new Float64Array(4) }; // auc, recall, ndcg, pairs
  for (let j = 0; j < perPair.length; j++) {
    const group = warm[testItems[j]] ? sums.warm : sums.cold;
    const rank = Math.round(2 * candidates[j] * (1 - perPair[j])) / 2; // multiples of ½ (ties count half)
    group[0] += perPair[j];
    if (rank < TOP_K) {
      group[1] += 1;
      group[2] += 1 / Math.log2(rank + 2);
    }
    group[3] += 1;
  }
  const mean = (g: Float64Array, k: number) => (g[3] > 0 ? g[k] / g[3] : NaN);
  const pairs = sums.warm[3] + sums.cold[3];
  return {
    warm: mean(sums.warm, 0),
    cold: mean(sums.cold, 0),
    combined: pairs > 0 ? (sums.warm[0] + sums.cold[0]) / pairs : NaN,
    recallAt20: { warm: mean(sums.warm, 1), cold: mean(sums.cold, 1) },
    ndcgAt20: { warm: mean(sums.warm, 2), cold: mean(sums.cold, 2) },
    pairsWarm: sums.warm[3],
    pairsCold: sums.cold[3],
  };
}
