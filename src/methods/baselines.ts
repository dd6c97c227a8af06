// The baselines behind the Recommender contract: thin adapters that fit the existing code (src/baselines/,
// src/eval/baselines.ts) and hand its factor matrices to the common artifact. Nothing here changes a score.
import type { Matrix, Split } from '../data/types.js';
import { widenFeatures } from '../data/features.js';
import { featuresTimes } from '../model/matrix.js';
import { seedOption, threadsOption, resolveOptions, type OptionSpec } from '../core/options.js';
import { withBlasThreads } from '../core/blas.js';
import { distanceRows } from '../core/pairs.js';
import { silentProgress, type Progress } from '../progress.js';
import { mostPopScorer, wboiUserMeans } from '../eval/baselines.js';
import { BPR_MF_OPTIONS, trainBprMf } from '../baselines/bpr.js';
import type { BprOptions } from '../core/bpr-sampling.js';
import { trainVbpr, vbprItemMap, VBPR_OPTIONS, type VbprOptions } from '../baselines/vbpr.js';
import { IBR_OPTIONS, trainIbr, type IbrConfig } from '../baselines/ibr.js';
import { projectRows } from '../model/pair-metric.js';
import { asSplit, factorModel } from './artifact.js';
import type { Method } from './method.js';

/** Options of the methods that only count (no randomness, no kernels to thread). */
interface CountingOptions {
  seed: number;
  threads: number;
}

const COUNTING_OPTIONS: ReadonlyArray<OptionSpec<CountingOptions>> = [seedOption<CountingOptions>(), threadsOption<CountingOptions>()] as ReadonlyArray<OptionSpec<CountingOptions>>;

/** Popularity: every user gets the same ranking, so it has no similar items, and cold products (never bought) all score 0. */
export const mostPopMethod: Method<CountingOptions> = {
  name: 'mostpop',
  label: 'MostPop',
  description: 'popularity: products ranked by their number of training interactions, the same for every user',
  seeded: false,
  rankingTable: true,
  options: COUNTING_OPTIONS,
  async fit(data, options = {}) {
    const split = asSplit(data);
    const o = resolveOptions('mostpop', COUNTING_OPTIONS, options);
    const { users, items } = mostPopScorer(split);
    return factorModel(split, { method: 'mostpop', options: o, users, items, scoring: 'dot', similarItems: false, coldItems: false });
  },
};

/** WBOI: a user is the weighted mean of their products' image features, compared by cosine; new products are their features. */
export const wboiMethod: Method<CountingOptions> = {
  name: 'wboi',
  label: 'WBOI',
  description: 'weighted bag of items: the mean image features of a user\'s products against each product\'s, by cosine',
  seeded: false,
  rankingTable: true,
  options: COUNTING_OPTIONS,
  async fit(data, options = {}) {
    const split = asSplit(data);
    const o = resolveOptions('wboi', COUNTING_OPTIONS, options);
    const I = split.features.cols;
    const identity: Matrix = { data: new Float32Array(I * I), rows: I, cols: I };
    for (let c = 0; c < I; c++) identity.data[c * I + c] = 1;
    return factorModel(split, {
      method: 'wboi', options: o, users: wboiUserMeans(split), items: widenFeatures(split.features), scoring: 'cosine',
      featureMap: identity, similarItems: true, coldItems: true,
    });
  },
};

/** BPR-MF: learns only from purchases, so cold products have no factors (they tie at 0) and cannot be placed. */
export const bprMfMethod: Method<BprOptions> = {
  name: 'bpr-mf',
  label: 'BPR-MF',
  description: 'matrix factorisation trained by Bayesian Personalized Ranking (Rendle et al. 2009): purchases only',
  seeded: true,
  rankingTable: true,
  options: BPR_MF_OPTIONS,
  async fit(data, options = {}, progress: Progress = silentProgress) {
    const split = asSplit(data);
    const o = resolveOptions('trainBprMf', BPR_MF_OPTIONS, options);
    const started = Date.now();
    const { users, items } = trainBprMf(split, o, progress);
    return factorModel(split, {
      method: 'bpr-mf', options: o, users, items, scoring: 'dot', similarItems: true, coldItems: false,
      info: { trainSeconds: (Date.now() - started) / 1000 },
    });
  },
};

/** VBPR: BPR-MF plus visual terms, which score cold products and place new ones (a linear map of their features). */
export const vbprMethod: Method<VbprOptions> = {
  name: 'vbpr',
  label: 'VBPR',
  description: 'BPR-MF with visual factors from the image features (He & McAuley 2016)',
  seeded: true,
  rankingTable: true,
  options: VBPR_OPTIONS,
  async fit(data, options = {}, progress: Progress = silentProgress) {
    const split = asSplit(data);
    const o = resolveOptions('trainVbpr', VBPR_OPTIONS, options);
    const started = Date.now();
    const { scorer, params, losses } = trainVbpr(split, o, progress);
    return factorModel(split, {
      method: 'vbpr', options: o, users: scorer.users, items: scorer.items, scoring: 'dot',
      featureMap: vbprItemMap(params, split.features.cols), similarItems: true, coldItems: true,
      info: { trainLog: losses, trainSeconds: (Date.now() - started) / 1000 },
    });
  },
};

/**
 * IBR (Table 3's learned baseline) as a recommender. IBR learns a distance d(i, j) = ||x_i − x_j||², x = Y f, between
 * products; a user scores a product by its mean distance to the user's purchases, which up to a per-user constant is
 * x_i·m_u − |x_i|²/2 with m_u their mean x. As factors: users [m_u, 1, 0], items [x_i, −|x_i|²/2, 1]; similar items
 * query with [x_i, 1, −|x_i|²/2], ranking by −d(i, j)/2. Products are placed by their features (cold ones too), but
 * the map is not linear, so new products cannot be added after training.
 */
export const ibrMethod: Method<IbrConfig> = {
  name: 'ibr',
  label: 'IBR',
  description: 'image-based recommendations (McAuley et al. 2015): a learned visual distance between products',
  seeded: true,
  rankingTable: false,
  options: IBR_OPTIONS,
  async fit(data, options = {}, progress: Progress = silentProgress) {
    const split = asSplit(data);
    const o = resolveOptions('ibr', IBR_OPTIONS, options);
    const started = Date.now();
    const model = trainIbr(split, o, new Set(), progress);
    const { users, items, itemQueries } = withBlasThreads(o.threads, () => ibrFactors(split, model.projection));
    return factorModel(split, {
      method: 'ibr', options: o, users, items, itemQueries, scoring: 'dot', similarItems: true, coldItems: true,
      info: { trainLog: model.log, offset: model.offset, trainSeconds: (Date.now() - started) / 1000 },
    });
  },
  async relations(split, options, exclude, progress) {
    return distanceRows(projectRows(trainIbr(split, options, exclude, progress).projection, split.features));
  },
};

/** IBR's distance as factor matrices (see ibrMethod). */
export function ibrFactors(split: Split, projection: Matrix): { users: Matrix; items: Matrix; itemQueries: Matrix } {
  const { features } = split;
  const K = projection.rows;
  const nItems = features.rows;
  const x = new Float32Array(nItems * K);
  featuresTimes(features, projection.data, K, x, true);
  const { queries: itemQueries, items } = distanceRows({ data: x, rows: nItems, cols: K });
  const W = K + 2;
  const nUsers = split.userIds.length;
  const users: Matrix = { data: new Float32Array(nUsers * W), rows: nUsers, cols: W };
  const { users: us, items: is } = split.train;
  const seen = new Set<number>();
  const count = new Float64Array(nUsers);
  for (let e = 0; e < us.length; e++) {
    const key = us[e] * nItems + is[e];
    if (seen.has(key)) continue;
    seen.add(key);
    count[us[e]]++;
    const u = us[e] * W;
    for (let k = 0; k < K; k++) users.data[u + k] += x[is[e] * K + k];
  }
  for (let u = 0; u < nUsers; u++) {
    if (count[u] > 0) for (let k = 0; k < K; k++) users.data[u * W + k] /= count[u];
    users.data[u * W + K] = 1;
  }
  return { users, items, itemQueries };
}
