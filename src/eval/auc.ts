// The paper's AUC (eq. 4) on T_warm and T_cold. Most methods are two factor matrices whose row dot
// products are their scores, so one native blocked GEMM ranks all candidates of all test users; a
// method whose scores are not low-rank (EASE: X_u·B) instead scores a block of users at a time.
import { native } from '../native.js';
import type { Split } from '../data/types.js';
import { seenLists, type BlockScorer, type FactorScorer, type Scorer } from '../core/factors.js';
import { DEFAULT_KS, LIST_K, listMetrics, ndcgAtK, rankMetrics, ranksFromAuc, recallAtK, rowTopK, type TopKMetrics } from './topk.js';

export type { BlockScorer, FactorScorer, Scorer };

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
export async function evaluateAuc(scorer: Scorer, split: Split, threads: number, ks: number[] = DEFAULT_KS): Promise<EvaluationResult> {
  const { seenIndptr, seenIndices } = seenLists(split.train, split.userIds.length);
  const { perPair, lists } = 'scoreUsers' in scorer
    ? await blockRanking(scorer, split, seenIndptr, seenIndices)
    : await factorRanking(scorer, split, seenIndptr, seenIndices, threads);
  const candidates = Float64Array.from(split.test.users, (u) => split.itemIds.length - 1 - (seenIndptr[u + 1] - seenIndptr[u]));
  const result = rankingMetrics(perPair, candidates, split.test.items, split.warm);
  const topK = { ...rankMetrics(ranksFromAuc(perPair, candidates), split.test.items, split.warm, ks), ...listMetrics(lists, split.test.items, split.warm, split.train.items) } as TopKMetrics;
  if (!scorer.warmOnly) return { ...result, topK };
  // No cold metric of its own; "all" stays: it is the list this method would show, cold products included.
  for (const key of Object.keys(topK) as Array<keyof TopKMetrics>) {
    const value = topK[key];
    if (typeof value === 'object' && 'all' in value) topK[key] = { ...value, cold: NaN } as never;
  }
  return { ...result, cold: NaN, combined: NaN, recallAt20: { ...result.recallAt20, cold: NaN }, ndcgAt20: { ...result.ndcgAt20, cold: NaN }, topK };
}

/** Per test pair: eq. 4's AUC and the user's top-LIST_K list (native.rankTestPairs), training products excluded. */
interface Ranking {
  perPair: Float64Array;
  /** Rows of LIST_K item ids per test pair, best first (equal scores: lower id first), −1 = empty slot. */
  lists: Int32Array;
}

async function factorRanking(scorer: FactorScorer, split: Split, seenIndptr: Int32Array, seenIndices: Int32Array, threads: number): Promise<Ranking> {
  const { users, items } = scorer;
  if (users.cols !== items.cols) throw new Error(`${scorer.name}: user and item factors differ in width (${users.cols} vs ${items.cols})`);
  if (users.rows !== split.userIds.length || items.rows !== split.itemIds.length) {
    throw new Error(`${scorer.name}: factors cover ${users.rows} users × ${items.rows} items, the split has ${split.userIds.length} × ${split.itemIds.length}`);
  }
  const { auc: perPair, lists } = await native.rankTestPairs(users.data, items.data, users.cols, split.test.users, split.test.items,
    seenIndptr, seenIndices, LIST_K, threads);
  return { perPair, lists };
}

/** The factor path's counts over score blocks: native.rankTestPairs' AUC and lists, computed from each user's score row. */
async function blockRanking(scorer: BlockScorer, split: Split, seenIndptr: Int32Array, seenIndices: Int32Array): Promise<Ranking> {
  const n = split.itemIds.length;
  if (scorer.nUsers !== split.userIds.length || scorer.nItems !== n) {
    throw new Error(`${scorer.name}: scores cover ${scorer.nUsers} users × ${scorer.nItems} items, the split has ${split.userIds.length} × ${n}`);
  }
  const { users, items } = split.test;
  const perPair = new Float64Array(users.length);
  const lists = new Int32Array(users.length * LIST_K);
  const B = blockRows(n);
  for (let j0 = 0; j0 < users.length; j0 += B) {
    const block = users.subarray(j0, Math.min(users.length, j0 + B));
    const scores = await scorer.scoreUsers(block);
    if (scores.length !== block.length * n) throw new Error(`${scorer.name}: scoreUsers returned ${scores.length} scores for ${block.length} users × ${n} items`);
    for (let r = 0; r < block.length; r++) {
      const row = scores.subarray(r * n, (r + 1) * n);
      const seen = seenIndices.subarray(seenIndptr[block[r]], seenIndptr[block[r] + 1]);
      perPair[j0 + r] = rowAuc(row, items[j0 + r], seen);
      lists.set(rowTopK(row, LIST_K, seen), (j0 + r) * LIST_K);
    }
  }
  return { perPair, lists };
}

/** Eq. 4 for one test item t: candidates are all items but t and the user's `seen` ones; ties count ½. */
function rowAuc(row: Float32Array, t: number, seen: Int32Array): number {
  const st = row[t];
  let less = 0;
  let equal = 0;
  for (let i = 0; i < row.length; i++) {
    if (row[i] < st) less++;
    else if (row[i] === st) equal++;
  }
  equal--; // the test item itself
  let excluded = 0;
  for (const e of seen) {
    if (e === t) continue;
    excluded++;
    if (row[e] < st) less--;
    else if (row[e] === st) equal--;
  }
  const candidates = row.length - 1 - excluded;
  return candidates > 0 ? (less + equal / 2) / candidates : NaN;
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
