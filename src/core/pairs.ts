// Product pairs bought together in training: what IBR learns from and what the relation task (Table 3)
// samples. A neutral module, so a baseline (IBR) and the evaluation share it without importing each other.
import type { Split } from '../data/types.js';

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
