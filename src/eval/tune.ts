// Hyper-parameter search (`vasg tune`): random search over the main training settings, each trial
// scored (by default on Recall@20 over one list of warm and cold products: what a shop shows) on a
// validation split carved from the *training* pairs of a prepared split, with its own cold
// products, so the test pairs are never looked at. A time split is validated by a time split.
import type { Split } from '../data/types.js';
import { validationSplit } from '../data/validation.js';
import { Rng } from '../data/random.js';
import { silentProgress, type Progress } from '../progress.js';
import { evaluateAuc } from './auc.js';
import { resolveConfig, type TrainConfig } from '../model/config.js';
import { trainVasg } from '../model/train.js';

export { validationSplit };

/** The settings searched and the values tried (the defaults are among them). */
export const SEARCH_SPACE = {
  dim: [32, 50, 64, 100, 128],
  negatives: [3, 5, 10],
  window: [5, 7, 9],
  epochs: [1, 2, 3],
  walksPerNode: [5, 10, 20],
  visualLr: [3e-4, 1e-3, 3e-3],
  rankEpochs: [0, 10, 20, 30],
  rankLr: [0.02, 0.05, 0.1],
  rankReg: [0.003, 0.01, 0.03],
} satisfies { [K in keyof TrainConfig]?: Array<TrainConfig[K]> };

type Searched = { [K in keyof typeof SEARCH_SPACE]: TrainConfig[K] };

/** What a trial is ranked by: Recall@20 or NDCG@20 on all validation pairs (one list, warm and cold), or the combined AUC. */
export const TUNE_METRICS = ['recall@20', 'ndcg@20', 'combined-auc'] as const;
export type TuneMetric = (typeof TUNE_METRICS)[number];
export const DEFAULT_TUNE_METRIC: TuneMetric = 'recall@20';

export interface TuneOptions {
  trials: number;
  /** Wall-clock budget; the trial running when it ends is finished, no new one starts. */
  budgetMinutes: number;
  seed: number;
  threads: number;
  /** Settings kept fixed in every trial (e.g. from flags the user gave). */
  base: Partial<TrainConfig>;
  /** The validation metric trials are ranked by (default recall@20). */
  metric?: TuneMetric;
}

export interface Trial {
  settings: Searched;
  warm: number;
  cold: number;
  combined: number;
  /** Recall@20 and NDCG@20 over all validation pairs (warm and cold products in one list). */
  'recall@20': number;
  'ndcg@20': number;
  /** The value of the metric trials are ranked by. */
  score: number;
  seconds: number;
}

export interface TuneResult {
  /** Trials, best (highest validation `metric`) first. */
  trials: Trial[];
  metric: TuneMetric;
  validation: { users: number; warmPairs: number; coldPairs: number };
}

/** A random draw for every searched setting, but those fixed by the caller keep the defaults' value. */
function sample(rng: Rng, defaults: TrainConfig, fixed: Partial<TrainConfig>): Searched {
  const out: Record<string, unknown> = {};
  for (const [key, values] of Object.entries(SEARCH_SPACE)) {
    const draw = values[rng.int(values.length)];
    out[key] = key in fixed ? defaults[key as keyof TrainConfig] : draw;
  }
  return out as Searched;
}

/** Random search: the defaults first, then `trials − 1` random draws from SEARCH_SPACE, until the budget ends. */
export async function tune(split: Split, options: TuneOptions, progress: Progress = silentProgress): Promise<TuneResult> {
  const metric = options.metric ?? DEFAULT_TUNE_METRIC;
  const validation = validationSplit(split, options.seed);
  const rng = new Rng(options.seed + 101);
  const deadline = Date.now() + options.budgetMinutes * 60_000;
  const defaults = resolveConfig({ ...options.base, threads: options.threads, seed: options.seed });
  const trials: Trial[] = [];
  progress.start('tune', options.trials);
  for (let t = 0; t < options.trials && (t === 0 || Date.now() < deadline); t++) {
    const settings = t === 0 ? pick(defaults) : sample(rng, defaults, options.base);
    const config = resolveConfig({ ...defaults, ...settings });
    const started = Date.now();
    // Trials score recommendations only, which the similar-items space does not change: it is not fitted here.
    const { model } = await trainVasg(validation, { ...config, similar: 'embedding' }, silentProgress);
    const { users, items } = model.rankingMatrices();
    const r = await evaluateAuc({ name: 'VASG', users, items }, validation, options.threads, [20]);
    const recall = r.topK['recall@20'].all;
    const ndcg = r.topK['ndcg@20'].all;
    const score = metric === 'recall@20' ? recall : metric === 'ndcg@20' ? ndcg : r.combined;
    trials.push({ settings, warm: r.warm, cold: r.cold, combined: r.combined, 'recall@20': recall, 'ndcg@20': ndcg, score, seconds: (Date.now() - started) / 1000 });
    const best = Math.max(...trials.map((x) => x.score));
    progress.update(t + 1, `${metric} ${score.toFixed(4)} (best ${best.toFixed(4)})`);
  }
  progress.finish();
  // Stable sort: among equal scores the earlier trial (the defaults first) wins.
  trials.sort((a, b) => b.score - a.score);
  return {
    trials,
    metric,
    validation: { users: validation.test.users.length, warmPairs: validation.summary.testWarm, coldPairs: validation.summary.testCold },
  };
}

function pick(config: TrainConfig): Searched {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SEARCH_SPACE)) out[key] = config[key as keyof TrainConfig];
  return out as Searched;
}

/** The command-line flags that reproduce a trial's settings. */
export function settingsAsFlags(settings: Searched): string {
  const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return Object.entries(settings).map(([key, value]) => `--${kebab(key)} ${value}`).join(' ');
}
