// IBR (McAuley et al. 2015, "Image-based recommendations on styles and substitutes"), the learned
// baseline of Table 3: a low-rank Mahalanobis distance d(i, j) = ||Y(f_i − f_j)||² on the image features,
// Y of rank K (K × I), with P(related | i, j) = σ(c − d(i, j)); the learner is model/pair-metric.ts.
import type { Matrix, Split } from '../data/types.js';
import type { PairSimilarity } from '../core/pairs.js';
import { silentProgress, type Progress } from '../progress.js';
import { withBlasThreads } from '../core/blas.js';
import { integer, number, option, resolveOptions, seedOption, threadsOption, type OptionSpec } from '../core/options.js';
import { fitPairMetric, matrixRows, pairDistances, type PairMetric, type PairMetricConfig } from '../model/pair-metric.js';

export { pairMetricLossGrad as ibrLossGrad, type LabelledPairs } from '../model/pair-metric.js';

export interface IbrConfig extends PairMetricConfig {
  threads: number;
}

/** IBR's option table: library defaults, checks and `vasg train --method ibr` flags. */
export const IBR_OPTIONS: ReadonlyArray<OptionSpec<IbrConfig>> = [
  option<IbrConfig, 'rank'>('rank', '--rank <n>', 'rank K of the projection Y', 100, integer(1, 4096)),
  option<IbrConfig, 'epochs'>('epochs', '--epochs <n>', 'passes over the positive pairs', 10, integer(1, 10000)),
  option<IbrConfig, 'batchSize'>('batchSize', '--batch-size <n>', 'pairs per minibatch, half positive and half negative', 512, integer(2, 1 << 20)),
  option<IbrConfig, 'lr'>('lr', '--lr <x>', 'Adam learning rate of Y and c', 1e-3, number(1e-8, 0.999)),
  option<IbrConfig, 'l2'>('l2', '--l2 <x>', 'L2 penalty λ·||Y||²', 0, number(0, 100)),
  option<IbrConfig, 'maxPairs'>('maxPairs', '--max-pairs <n>', 'upper bound on the positive pairs used', 200000, integer(1, 1 << 30)),
  threadsOption<IbrConfig>(),
  seedOption<IbrConfig>(),
] as ReadonlyArray<OptionSpec<IbrConfig>>;

/** A fitted IBR distance on the image features. */
export type IbrModel = PairMetric;

/**
 * Fits IBR on the training split's image features, never learning from the pairs in `exclude` (e.g. those a relation
 * evaluation will score). Deterministic for config.seed.
 */
export function trainIbr(split: Split, overrides: Partial<IbrConfig> = {}, exclude: Set<number> = new Set(),
  progress: Progress = silentProgress): IbrModel {
  const config = resolveOptions('ibr', IBR_OPTIONS, overrides);
  return withBlasThreads(config.threads, () => fitPairMetric(split, matrixRows(split.features), config, exclude, progress, 'IBR'));
}

/** Similarity for the relation task: −d(i, j) (the threshold is chosen on it like on a cosine). */
export function ibrSimilarity(model: IbrModel, features: Matrix): PairSimilarity {
  const rows = matrixRows(features);
  return (first, second) => {
    const d = pairDistances(model, rows, first, second);
    for (let k = 0; k < d.length; k++) d[k] = -d[k];
    return d;
  };
}
