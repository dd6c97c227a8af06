// Scores as factor matrices, the currency between the models, the evaluation and the retrievers: every
// method's score(u, i) is users[u] · items[i], so one native GEMM or top-k search serves them all.
import type { Interactions, Matrix } from '../data/types.js';

/** A method's scores as factors: score(u, i) = users[u] · items[i]. */
export interface FactorScorer {
  name: string;
  users: Matrix;
  items: Matrix;
  /** The method has nothing of its own for cold products (they still compete as candidates): no cold AUC. */
  warmOnly?: boolean;
}

/** CSR of the sorted, unique items each user interacted with in training. */
export function seenLists(train: Interactions, nUsers: number): { seenIndptr: Int32Array; seenIndices: Int32Array } {
  const perUser: number[][] = Array.from({ length: nUsers }, () => []);
  for (let e = 0; e < train.users.length; e++) perUser[train.users[e]].push(train.items[e]);
  const seenIndptr = new Int32Array(nUsers + 1);
  const all: number[] = [];
  perUser.forEach((list, u) => {
    const unique = Array.from(new Set(list)).sort((a, b) => a - b);
    for (const item of unique) all.push(item);
    seenIndptr[u + 1] = all.length;
  });
  return { seenIndptr, seenIndices: Int32Array.from(all) };
}
