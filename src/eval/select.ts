// Hyper-parameter selection for the closed-form baselines (EASE, iALS, Content→CF): every setting of a small
// grid is fitted on the validation split that `vasg tune` carves from the training pairs (validationSplit, with
// its own cold products) and scored there, so the test pairs are never looked at. Each selection is made once
// per (split, tuning seed) in this process, so `experiment auc --runs 5` tunes once.
import type { Split } from '../data/types.js';
import type { Progress } from '../progress.js';
import type { Scorer } from '../core/factors.js';
import { EASE_LAMBDAS, easeScorer, fitEase, type EaseOptions } from '../baselines/ease.js';
import { fitIals, ialsFactors, ialsGrid, type IalsOptions, type IalsSetting } from '../baselines/ials.js';
import { CONTENT_CF_RIDGE, contentCfItems, ridgeSystem, warmRows } from '../baselines/content-cf.js';
import { evaluateAuc, type AucResult } from './auc.js';
import { validationSplit } from '../data/validation.js';

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
 * run's seed. `key` must name everything `fit` depends on.
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

/** How a selection runs: the seed that carves the validation split (and seeds its fits) and the threads to use. */
export interface TuneOptions {
  seed: number;
  threads: number;
}

/** EASE's λ from EASE_LAMBDAS by warm NDCG@20 (EASE scores no cold product); `fixed`: its other options. */
export function selectEaseLambda(split: Split, t: TuneOptions, progress: Progress, fixed: Partial<EaseOptions> = {},
  grid = EASE_LAMBDAS): Promise<Selected<number>> {
  const validation = cachedValidation(split, t.seed);
  const options = { ...fixed, threads: t.threads };
  return memoSelect(`EASE ${JSON.stringify({ fixed, grid })}`, validation, () => selectOnValidation(validation, grid,
    async (v, lambda) => easeScorer(await fitEase(v, { ...options, lambda })), warmNdcg, t.threads, progress, 'EASE λ'));
}

/** iALS's factors, λ and α from the grid by warm NDCG@20, every fit seeded with the tuning seed; `fixed`: its other options. */
export function selectIals(split: Split, t: TuneOptions, progress: Progress, fixed: Partial<IalsOptions> = {},
  grid = ialsGrid()): Promise<Selected<IalsSetting>> {
  const validation = cachedValidation(split, t.seed);
  const options = { ...fixed, seed: t.seed, threads: t.threads };
  return memoSelect(`iALS ${JSON.stringify({ fixed, grid })}`, validation, () => selectOnValidation(validation, grid,
    async (v, setting) => ({ name: 'iALS', ...ialsFactors(fitIals(v, { ...options, ...setting }), v.warm) }), warmNdcg, t.threads, progress, 'iALS'));
}

/**
 * Content→CF's ridge strength by cold AUC (the map only matters for cold products), with iALS (`ials`: its full
 * options, e.g. as selectIals chose them) refitted on the validation split, the normal equations accumulated once.
 */
export function selectContentCfRidge(split: Split, t: TuneOptions, progress: Progress, ials: Omit<IalsOptions, 'seed' | 'threads'>,
  grid = CONTENT_CF_RIDGE): Promise<Selected<number>> {
  const validation = cachedValidation(split, t.seed);
  return memoSelect(`Content→CF ${JSON.stringify({ ials, grid })}`, validation, async () => {
    const onValidation = fitIals(validation, { ...ials, seed: t.seed, threads: t.threads });
    const system = ridgeSystem(validation.features, onValidation.items, warmRows(validation));
    return selectOnValidation(validation, grid, async (v, ridge) => ({ name: 'Content→CF', users: onValidation.users, items: contentCfItems(onValidation, v, ridge, system).items }),
      coldAuc, t.threads, progress, 'Content→CF ridge');
  });
}
