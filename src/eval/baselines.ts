// Baselines of Table 2 that need no training beyond counting: RAND, MostPop (training-set
// popularity: the first thing a practitioner checks, and strong under the all-products AUC),
// WBOI (a user is the rating-weighted mean of the image features of their products; cosine),
// and, on generated data, the Oracle that ranks by the true preference.
import type { Matrix, Split } from '../data/types.js';
import { forEachFeatureBlock } from '../data/features.js';
import { Rng } from '../data/random.js';
import { normalizeRows, zeros } from '../model/matrix.js';
import type { FactorScorer } from './auc.js';

/** Independent random scores per (user, item), through random 16-d factors. */
export function randScorer(split: Split, seed: number): FactorScorer {
  const rng = new Rng(seed);
  const width = 16;
  const users = zeros(split.userIds.length, width);
  const items = zeros(split.itemIds.length, width);
  rng.fillNormal(users.data);
  rng.fillNormal(items.data);
  return { name: 'RAND', users, items };
}

/** Every user gets the same ranking: number of training interactions per product. */
export function mostPopScorer(split: Split): FactorScorer {
  const users = zeros(split.userIds.length, 1).data.fill(1);
  const items = zeros(split.itemIds.length, 1);
  for (const item of split.train.items) items.data[item]++;
  return { name: 'MostPop', users: { data: users, rows: split.userIds.length, cols: 1 }, items };
}

/** Weighted Bag Of Items: Σ_i r_ui f_i / Σ_i r_ui against f_p, by cosine. */
export function wboiScorer(split: Split): FactorScorer {
  return { name: 'WBOI', users: normalizeRows(wboiUserMeans(split)), items: normalizeRows(split.features) };
}

/** WBOI's user vectors before the cosine's normalisation: the rating-weighted mean of their products' features. */
export function wboiUserMeans(split: Split): Matrix {
  const { features } = split;
  const I = features.cols;
  const users = zeros(split.userIds.length, I);
  const weightSum = new Float64Array(split.userIds.length);
  const { users: us, items: is, ratings } = split.train;
  for (let e = 0; e < us.length; e++) weightSum[us[e]] += ratings[e];
  // Each block of products adds its purchases (float32: one block, the pairs in order as before).
  forEachFeatureBlock(features, (data, r0, rows) => {
    for (let e = 0; e < us.length; e++) {
      const f = is[e] - r0;
      if (f < 0 || f >= rows) continue;
      const row = us[e] * I;
      const r = ratings[e];
      for (let c = 0; c < I; c++) users.data[row + c] += r * data[f * I + c];
    }
  });
  // The weighting's normaliser does not change a cosine, but keeps the vector a mean as defined.
  for (let u = 0; u < users.rows; u++) {
    const scale = weightSum[u] > 0 ? 1 / weightSum[u] : 0;
    for (let c = 0; c < I; c++) users.data[u * I + c] *= scale;
  }
  return users;
}

/** The ceiling: the generator's true preference score. Null when the data carries no ground truth. */
export function oracleScorer(split: Split): FactorScorer | null {
  if (!split.truth) return null;
  return { name: 'Oracle', users: split.truth.users, items: split.truth.items };
}

