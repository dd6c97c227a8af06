// Hyper-parameter selection shared by the closed-form baselines (EASE, iALS, Content→CF): every setting of a
// small grid is fitted on the validation split that `vasg tune` carves from the training pairs (with its own
// cold products) and scored there, so the test pairs are never looked at.
import type { Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import { evaluateAuc, type AucResult, type Scorer } from '../eval/auc.js';
import { validationSplit } from '../model/tune.js';

/** What a grid point is judged by on the validation split. */
export type SelectionMetric = (r: AucResult) => number;

/** Warm NDCG@20: the top of the list for the products a warm-only model can score. */
export const warmNdcg: SelectionMetric = (r) => r.ndcgAt20.warm;
/** Cold AUC: smooth where cold top-20 hits are too rare to rank settings (a few per cent on the presets). */
export const coldAuc: SelectionMetric = (r) => r.cold;

export interface Selected<T> {
  best: T;
  /** Every grid point with its validation score, in grid order. */
  trials: Array<{ setting: T; score: number }>;
}

const selections = new WeakMap<Split, Map<string, Promise<Selected<unknown>>>>();

/**
 * selectOnValidation, run once per (validation split, key) in this process: the selection does not depend on the
 * run's seed, so `experiment auc --runs 5` tunes once. `key` must name everything `fit` depends on.
 */
export function memoSelect<T>(key: string, validation: Split, run: () => Promise<Selected<T>>): Promise<Selected<T>> {
  let byKey = selections.get(validation);
  if (!byKey) selections.set(validation, (byKey = new Map()));
  let selected = byKey.get(key);
  if (!selected) byKey.set(key, (selected = run()));
  return selected as Promise<Selected<T>>;
}

/** The grid point whose scorer, fitted on `validation`, scores highest (first wins ties; NaN never wins). */
export async function selectOnValidation<T>(validation: Split, grid: T[], fit: (split: Split, setting: T) => Promise<Scorer>,
  metric: SelectionMetric, threads: number, progress: Progress, label: string): Promise<Selected<T>> {
  if (grid.length === 0) throw new Error(`${label}: the tuning grid is empty`);
  const trials: Array<{ setting: T; score: number }> = [];
  let best = 0;
  let bestScore = -Infinity;
  for (const setting of grid) {
    const score = metric(await evaluateAuc(await fit(validation, setting), validation, threads));
    trials.push({ setting, score });
    if (score > bestScore) [best, bestScore] = [trials.length - 1, score];
    progress.log(`${label}: ${JSON.stringify(setting)} → ${score.toFixed(4)} on validation`);
  }
  return { best: trials[best].setting, trials };
}

const validations = new WeakMap<Split, Map<number, Split>>();

/** validationSplit(split, seed), carved once per (split, seed) in this process: every baseline tunes on the same one. */
export function cachedValidation(split: Split, seed: number): Split {
  let bySeed = validations.get(split);
  if (!bySeed) validations.set(split, (bySeed = new Map()));
  let validation = bySeed.get(seed);
  if (!validation) bySeed.set(seed, (validation = validationSplit(split, seed)));
  return validation;
}
