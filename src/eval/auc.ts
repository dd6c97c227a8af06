// The paper's AUC (eq. 4) on T_warm and T_cold. Every method is expressed as two factor
// matrices whose row dot products are its scores, so one native blocked GEMM ranks all
// candidates of all test users, whatever the method.
import { native } from '../native.js';
import type { Split } from '../data/types.js';
import { seenLists, type FactorScorer } from '../core/factors.js';

export type { FactorScorer };

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
export async function evaluateAuc(scorer: FactorScorer, split: Split, threads: number): Promise<AucResult> {
  const { users, items } = scorer;
  if (users.cols !== items.cols) throw new Error(`${scorer.name}: user and item factors differ in width (${users.cols} vs ${items.cols})`);
  if (users.rows !== split.userIds.length || items.rows !== split.itemIds.length) {
    throw new Error(`${scorer.name}: factors cover ${users.rows} users × ${items.rows} items, the split has ${split.userIds.length} × ${split.itemIds.length}`);
  }
  const { seenIndptr, seenIndices } = seenLists(split.train, split.userIds.length);
  const perPair = await native.pairAuc(users.data, items.data, users.cols, split.test.users, split.test.items, seenIndptr, seenIndices, threads);
  const candidates = Float64Array.from(split.test.users, (u) => split.itemIds.length - 1 - (seenIndptr[u + 1] - seenIndptr[u]));
  const result = rankingMetrics(perPair, candidates, split.test.items, split.warm);
  return scorer.warmOnly ? { ...result, cold: NaN, combined: NaN, recallAt20: { ...result.recallAt20, cold: NaN }, ndcgAt20: { ...result.ndcgAt20, cold: NaN } } : result;
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
