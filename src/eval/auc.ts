// The paper's AUC (eq. 4) on T_warm and T_cold. Every method is expressed as two factor
// matrices whose row dot products are its scores, so one native blocked GEMM ranks all
// candidates of all test users, whatever the method.
import { native } from '../native.js';
import type { Split } from '../data/types.js';
import { seenLists, type FactorScorer } from '../core/factors.js';
import { DEFAULT_KS, LIST_K, listMetrics, ndcgAtK, rankMetrics, ranksFromAuc, recallAtK, type TopKMetrics } from './topk.js';

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

/** AUC and the top-k metrics of src/eval/topk.ts (Recall/NDCG at every K asked, warm/cold/all; list metrics at 20). */
export interface EvaluationResult extends AucResult {
  topK: TopKMetrics;
}

/** The cut-off of Recall@K and NDCG@K. */
export const TOP_K = 20;

/**
 * For each test pair (u, p): the fraction of candidates ranked below p, ties counting ½.
 * Candidates: every product (warm and cold) except p and the user's training products. The same
 * ranks give Recall@K and NDCG@K at every K in `ks`; the test users' top-20 lists over the same
 * candidates (p included) give coverage, new-product exposure and popularity.
 */
export async function evaluateAuc(scorer: FactorScorer, split: Split, threads: number, ks: number[] = DEFAULT_KS): Promise<EvaluationResult> {
  const { users, items } = scorer;
  if (users.cols !== items.cols) throw new Error(`${scorer.name}: user and item factors differ in width (${users.cols} vs ${items.cols})`);
  if (users.rows !== split.userIds.length || items.rows !== split.itemIds.length) {
    throw new Error(`${scorer.name}: factors cover ${users.rows} users × ${items.rows} items, the split has ${split.userIds.length} × ${split.itemIds.length}`);
  }
  const { seenIndptr, seenIndices } = seenLists(split.train, split.userIds.length);
  const perPair = await native.pairAuc(users.data, items.data, users.cols, split.test.users, split.test.items, seenIndptr, seenIndices, threads);
  const candidates = Float64Array.from(split.test.users, (u) => split.itemIds.length - 1 - (seenIndptr[u + 1] - seenIndptr[u]));
  const result = rankingMetrics(perPair, candidates, split.test.items, split.warm);
  const lists = native.topK(users.data, items.data, users.cols, split.test.users, LIST_K, seenIndptr, seenIndices).items;
  const topK = { ...rankMetrics(ranksFromAuc(perPair, candidates), split.test.items, split.warm, ks), ...listMetrics(lists, split.test.items, split.warm, split.train.items) } as TopKMetrics;
  if (!scorer.warmOnly) return { ...result, topK };
  // No cold metric of its own; "all" stays: it is the list this method would show, cold products included.
  for (const key of Object.keys(topK) as Array<keyof TopKMetrics>) {
    const value = topK[key];
    if (typeof value === 'object' && 'all' in value) topK[key] = { ...value, cold: NaN } as never;
  }
  return { ...result, cold: NaN, combined: NaN, recallAt20: { ...result.recallAt20, cold: NaN }, ndcgAt20: { ...result.ndcgAt20, cold: NaN }, topK };
}

/**
 * Aggregates per-pair AUCs into warm/cold/combined AUC, Recall@20 and NDCG@20. A pair's rank
 * (0 = first) is the number of candidates above the test product plus half the ties, i.e.
 * candidates·(1 − auc): the expected position under a random order of tied scores.
 */
export function rankingMetrics(perPair: Float64Array, candidates: Float64Array, testItems: Int32Array, warm: Uint8Array): AucResult {
  const sums = { warm: new Float64Array(4), cold: new Float64Array(4) }; // auc, recall, ndcg, pairs
  const ranks = ranksFromAuc(perPair, candidates);
  for (let j = 0; j < perPair.length; j++) {
    const group = warm[testItems[j]] ? sums.warm : sums.cold;
    group[0] += perPair[j];
    group[1] += recallAtK(ranks[j], TOP_K);
    group[2] += ndcgAtK(ranks[j], TOP_K);
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
