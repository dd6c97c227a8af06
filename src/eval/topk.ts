// Top-k metrics of what a shop shows (docs/evaluation.md): Recall@K and NDCG@K of the held-out
// product for warm, cold and all test pairs, and, over the top-20 lists of the test users,
// catalogue coverage, new-product exposure and the popularity of what is recommended. Pure
// functions over ranks and lists, so they work for any scorer (see evaluateAuc): a FactorScorer's lists
// come from native.topK, a BlockScorer's from rowTopK over its score rows, in the same order.

/** The list a page shows: the cut-off of coverage, exposure and popularity. */
export const LIST_K = 20;
/** The cut-offs of Recall@K and NDCG@K reported by default (`--k`). */
export const DEFAULT_KS = [10, 20, 50];

/** A metric over warm test pairs, cold test pairs, and all of them (one list over the whole catalogue). */
export interface WarmColdAll {
  warm: number;
  cold: number;
  all: number;
}

/** Metrics of the top-20 lists shown to the test users. */
export interface ListMetrics {
  /** Share of the catalogue's products that appear in at least one test user's top 20. */
  'coverage@20': number;
  /** Share of top-20 slots given to cold products, next to the cold products' share of test purchases. */
  'exposure@20': { cold: number; coldTestShare: number };
  /** Mean popularity percentile (by training purchases, 0 = least, 1 = most bought) of the recommended products. */
  'popularity@20': number;
}

/** `recall@K` and `ndcg@K` for every K asked, plus the list metrics. */
export type TopKMetrics = { [key: `recall@${number}` | `ndcg@${number}`]: WarmColdAll } & ListMetrics;

/**
 * Rank (0 = first) of each test product among its candidates, from its AUC (eq. 4): the number of
 * candidates scored above it plus half of the tied ones, i.e. candidates·(1 − auc), in multiples of ½.
 */
export function ranksFromAuc(perPairAuc: Float64Array, candidates: Float64Array): Float64Array {
  return Float64Array.from(perPairAuc, (auc, j) => Math.round(2 * candidates[j] * (1 - auc)) / 2);
}

/** Recall@K with one relevant product per test pair: 1 when it is among the first K. */
export function recallAtK(rank: number, k: number): number {
  return rank < k ? 1 : 0;
}

/** NDCG@K with one relevant product (ideal DCG 1): 1 / log2(rank + 2) when it is among the first K. */
export function ndcgAtK(rank: number, k: number): number {
  return rank < k ? 1 / Math.log2(rank + 2) : 0;
}

/** Mean of per-pair values over the warm pairs, the cold pairs and all pairs (NaN for an empty group). */
export function meanByGroup(values: ArrayLike<number>, testItems: Int32Array, warm: Uint8Array): WarmColdAll {
  let warmSum = 0;
  let coldSum = 0;
  let warmCount = 0;
  for (let j = 0; j < values.length; j++) {
    if (warm[testItems[j]]) {
      warmSum += values[j];
      warmCount++;
    } else {
      coldSum += values[j];
    }
  }
  const mean = (sum: number, count: number) => (count > 0 ? sum / count : NaN);
  return { warm: mean(warmSum, warmCount), cold: mean(coldSum, values.length - warmCount), all: mean(warmSum + coldSum, values.length) };
}

/** Recall@K and NDCG@K for each K over warm, cold and all test pairs. */
export function rankMetrics(ranks: Float64Array, testItems: Int32Array, warm: Uint8Array, ks: number[]): Record<`recall@${number}` | `ndcg@${number}`, WarmColdAll> {
  const out: Record<string, WarmColdAll> = {};
  for (const k of ks) {
    out[`recall@${k}`] = meanByGroup(Array.from(ranks, (r) => recallAtK(r, k)), testItems, warm);
    out[`ndcg@${k}`] = meanByGroup(Array.from(ranks, (r) => ndcgAtK(r, k)), testItems, warm);
  }
  return out;
}

/**
 * The k best items of one score row, skipping the `exclude`d ones (ascending ids) and NaN scores: best first,
 * equal scores lower id first, padded with −1. native.topK's order, for scores handed over as rows.
 */
export function rowTopK(row: Float32Array, k: number, exclude: Int32Array): Int32Array {
  const items = new Int32Array(k).fill(-1);
  const scores = new Float32Array(k);
  let filled = 0;
  let next = 0; // position in exclude
  for (let i = 0; i < row.length; i++) {
    while (next < exclude.length && exclude[next] < i) next++;
    if (next < exclude.length && exclude[next] === i) continue;
    const v = row[i];
    // Ids rise, so an item ties below every kept equal score: it enters only above the worst kept one.
    if (Number.isNaN(v) || (filled === k && !(v > scores[k - 1]))) continue;
    let at = Math.min(filled, k - 1);
    while (at > 0 && scores[at - 1] < v) {
      scores[at] = scores[at - 1];
      items[at] = items[at - 1];
      at--;
    }
    scores[at] = v;
    items[at] = i;
    if (filled < k) filled++;
  }
  return items;
}

/** Share of the `nItems` products that appear in at least one list (lists: rows of item ids, −1 = empty slot). */
export function catalogueCoverage(lists: Int32Array, nItems: number): number {
  const shown = new Uint8Array(nItems);
  let distinct = 0;
  for (const item of lists) {
    if (item >= 0 && !shown[item]) {
      shown[item] = 1;
      distinct++;
    }
  }
  return nItems > 0 ? distinct / nItems : NaN;
}

/** Share of the filled list slots that show a cold product (warm[i] = 0). */
export function coldExposure(lists: Int32Array, warm: Uint8Array): number {
  let filled = 0;
  let cold = 0;
  for (const item of lists) {
    if (item < 0) continue;
    filled++;
    if (!warm[item]) cold++;
  }
  return filled > 0 ? cold / filled : NaN;
}

/** Share of test pairs whose product is cold: what an unbiased list would give new products. */
export function coldTestShare(testItems: Int32Array, warm: Uint8Array): number {
  let cold = 0;
  for (const item of testItems) if (!warm[item]) cold++;
  return testItems.length > 0 ? cold / testItems.length : NaN;
}

/**
 * Popularity percentile of every product by its number of training purchases: the share of the
 * other products bought fewer times, plus half of those bought as often (mid-rank). The most bought
 * product alone gets 1, a product tied with the whole catalogue ½; cold products share the bottom.
 */
export function popularityPercentiles(trainItems: Int32Array, nItems: number): Float64Array {
  const counts = new Int32Array(nItems);
  for (const item of trainItems) counts[item]++;
  const maxCount = counts.reduce((a, b) => Math.max(a, b), 0);
  const histogram = new Float64Array(maxCount + 1);
  for (const c of counts) histogram[c]++;
  const fewer = new Float64Array(maxCount + 1); // fewer[c] = products with count < c
  for (let c = 1; c <= maxCount; c++) fewer[c] = fewer[c - 1] + histogram[c - 1];
  return Float64Array.from(counts, (c) => (nItems > 1 ? (fewer[c] + (histogram[c] - 1) / 2) / (nItems - 1) : 0.5));
}

/** Mean of a per-product value over the filled list slots. */
export function meanOverLists(lists: Int32Array, perItem: Float64Array): number {
  let sum = 0;
  let filled = 0;
  for (const item of lists) {
    if (item < 0) continue;
    sum += perItem[item];
    filled++;
  }
  return filled > 0 ? sum / filled : NaN;
}

/** Coverage, new-product exposure and popularity of top-20 lists (rows of LIST_K item ids, −1 = empty). */
export function listMetrics(lists: Int32Array, testItems: Int32Array, warm: Uint8Array, trainItems: Int32Array): ListMetrics {
  return {
    'coverage@20': catalogueCoverage(lists, warm.length),
    'exposure@20': { cold: coldExposure(lists, warm), coldTestShare: coldTestShare(testItems, warm) },
    'popularity@20': meanOverLists(lists, popularityPercentiles(trainItems, warm.length)),
  };
}

/** Whether a key of TopKMetrics is a `recall@K` or `ndcg@K` entry (rather than a list metric). */
export function isRankKey(key: string): key is `recall@${number}` | `ndcg@${number}` {
  return /^(recall|ndcg)@\d+$/.test(key);
}

/** Parses `--k 10,20,50`: distinct positive integers, ascending. */
export function parseKs(text: string): number[] {
  const ks = text.split(',').map((part) => part.trim());
  if (ks.some((k) => !/^\d+$/.test(k) || Number(k) < 1)) throw new Error(`--k: expected comma-separated positive integers, e.g. 10,20,50, found ${JSON.stringify(text)}`);
  return Array.from(new Set(ks.map(Number))).sort((a, b) => a - b);
}
