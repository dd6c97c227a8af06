// Product pairs bought together in training: what IBR learns from and what the relation task (Table 3)
// samples. A neutral module, so a baseline (IBR) and the evaluation share it without importing each other.
import type { Matrix, Split } from '../data/types.js';

/** Similarity of each pair (first[k], second[k]); larger means "more likely related". */
export type PairSimilarity = (first: Int32Array, second: Int32Array) => Float32Array;

/** Canonical key of an unordered product pair (i ≠ j); exact for up to 2^26 products. */
export function pairKey(i: number, j: number): number {
  return i < j ? i * 67108864 + j : j * 67108864 + i;
}

/** The set of distinct unordered pairs of products bought by a same user in training. */
export function coPurchasedPairs(split: Split): Set<number> {
  const perUser: number[][] = Array.from({ length: split.userIds.length }, () => []);
  const { users, items } = split.train;
  for (let e = 0; e < users.length; e++) perUser[users[e]].push(items[e]);
  const keys = new Set<number>();
  for (const list of perUser) {
    const unique = Array.from(new Set(list));
    for (let a = 0; a < unique.length; a++) {
      for (let b = a + 1; b < unique.length; b++) keys.add(pairKey(unique[a], unique[b]));
    }
  }
  return keys;
}

/**
 * A product–product similarity as two matrices: score(i, j) = queries[i] · items[j] (cosine: both the normalised
 * rows; a learned distance: rows built so that the dot product is −d(i, j)/2). Both the relation task (scores of
 * pairs) and top-k similar products (an inner-product search over `items`) rank by it.
 */
export interface ItemSimilarity {
  queries: Matrix;
  items: Matrix;
}

/** The pair scores of an ItemSimilarity. */
export function pairScores(similarity: ItemSimilarity): PairSimilarity {
  const { queries, items } = similarity;
  const cols = items.cols;
  return (first, second) => {
    const out = new Float32Array(first.length);
    for (let k = 0; k < first.length; k++) {
      const a = first[k] * cols;
      const b = second[k] * cols;
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += queries.data[a + c] * items.data[b + c];
      out[k] = dot;
    }
    return out;
  };
}

/**
 * Rows whose dot products rank by a squared distance: queries [z, 1, −|z|²/2] against items [z, −|z|²/2, 1] give
 * z_i·z_j − |z_i|²/2 − |z_j|²/2 = −|z_i − z_j|²/2.
 */
export function distanceRows(z: Matrix): ItemSimilarity {
  const { rows, cols } = z;
  const width = cols + 2;
  const queries = new Float32Array(rows * width);
  const items = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) {
    const row = z.data.subarray(i * cols, (i + 1) * cols);
    let sq = 0;
    for (let c = 0; c < cols; c++) sq += row[c] * row[c];
    queries.set(row, i * width);
    items.set(row, i * width);
    queries[i * width + cols] = 1;
    queries[i * width + cols + 1] = -sq / 2;
    items[i * width + cols] = -sq / 2;
    items[i * width + cols + 1] = 1;
  }
  return { queries: { data: queries, rows, cols: width }, items: { data: items, rows, cols: width } };
}
