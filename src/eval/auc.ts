// The paper's AUC (eq. 4) on T_warm and T_cold. Every method is expressed as two factor
// matrices whose row dot products are its scores, so one native blocked GEMM ranks all
// candidates of all test users, whatever the method.
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

export interface AucResult {
  warm: number;
  cold: number;
  /** Number of test pairs behind each value. */
  pairsWarm: number;
  pairsCold: number;
}

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
  const result = splitByWarmth(perPair, split);
  return scorer.warmOnly ? { ...result, cold: NaN } : result;
}

function splitByWarmth(perPair: Float64Array, split: Split): AucResult {
  let warm = 0;
  let cold = 0;
  let pairsWarm = 0;
  let pairsCold = 0;
  for (let j = 0; j < perPair.length; j++) {
    if (split.warm[split.test.items[j]]) {
      warm += perPair[j];
      pairsWarm++;
    } else {
      cold += perPair[j];
      pairsCold++;
    }
  }
  return { warm: pairsWarm ? warm / pairsWarm : NaN, cold: pairsCold ? cold / pairsCold : NaN, pairsWarm, pairsCold };
}
