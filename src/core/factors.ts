// Scores as factor matrices, the currency between the models, the evaluation and the retrievers: every
// method's score(u, i) is users[u] · items[i], so one native GEMM or top-k search serves them all. A model
// whose scores are not low-rank (EASE) hands the evaluation blocks of score rows instead (BlockScorer).
import type { Interactions, Matrix } from '../data/types.js';

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

/** Either kind: the evaluation (evaluateAuc) ranks both the same way. */
export type Scorer = FactorScorer | BlockScorer;

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
