// iALS and Content→CF behind the Recommender contract (docs/baselines.md): thin adapters over
// src/baselines/ials.ts and src/baselines/content-cf.ts that hand their factors to the common artifact, and
// the tuning hooks the experiment table uses (src/eval/select.ts: grids fitted on a validation split).
import { silentProgress, type Progress } from '../progress.js';
import { defaultsOf, resolveOptions } from '../core/options.js';
import { withBlasThreads } from '../core/blas.js';
import { fitIals, ialsFactors, IALS_OPTIONS, type IalsOptions } from '../baselines/ials.js';
import { CONTENT_CF_OPTIONS, contentCfItems, type ContentCfOptions } from '../baselines/content-cf.js';
import { selectContentCfRidge, selectIals } from '../eval/select.js';
import { asSplit, factorModel } from './artifact.js';
import type { Method } from './method.js';

/**
 * iALS: learns from purchases only, so cold products have no factors; an extra column puts them below every
 * warm product ([x_u, 1]·[y_i, 0 | −10⁴]), and recommendations leave them out unless asked for.
 */
export const ialsMethod: Method<IalsOptions> = {
  name: 'ials',
  label: 'iALS',
  description: 'implicit-feedback matrix factorisation by alternating least squares (Hu, Koren & Volinsky 2008): purchases only',
  seeded: true,
  rankingTable: true,
  warmOnly: true,
  options: IALS_OPTIONS,
  async fit(data, options = {}, progress: Progress = silentProgress) {
    const split = asSplit(data);
    const o = resolveOptions('ials', IALS_OPTIONS, options);
    const started = Date.now();
    const { users, items } = ialsFactors(fitIals(split, o, progress), split.warm);
    return factorModel(split, {
      method: 'ials', options: o, users, items, scoring: 'dot', similarItems: true, coldItems: false,
      info: { trainSeconds: (Date.now() - started) / 1000 },
    });
  },
  tune: async (split, t, progress) => (await selectIals(split, t, progress)).best,
};

/**
 * Content→CF: iALS's vectors for warm products and users, a ridge map from image features to those vectors for
 * cold products, which is also how a new product is placed (features·W + intercept).
 */
export const contentCfMethod: Method<ContentCfOptions> = {
  name: 'content-cf',
  label: 'Content→CF',
  description: 'iALS plus a ridge map from image features to its product vectors, for cold and new products (Gantner et al. 2010)',
  seeded: true,
  rankingTable: true,
  options: CONTENT_CF_OPTIONS,
  async fit(data, options = {}, progress: Progress = silentProgress) {
    const split = asSplit(data);
    const { ridge, ...ialsOptions } = resolveOptions('content-cf', CONTENT_CF_OPTIONS, options);
    const started = Date.now();
    const model = fitIals(split, ialsOptions, progress);
    const { items, W } = withBlasThreads(ialsOptions.threads, () => contentCfItems(model, split, ridge));
    const d = split.features.cols;
    return factorModel(split, {
      method: 'content-cf', options: { ...ialsOptions, ridge }, users: model.users, items, scoring: 'dot',
      featureMap: { data: W.data.slice(0, d * W.cols), rows: d, cols: W.cols }, featureIntercept: W.data.slice(d * W.cols),
      similarItems: true, coldItems: true, info: { trainSeconds: (Date.now() - started) / 1000 },
    });
  },
  // iALS as its own row would choose it, then the ridge strength on top of it.
  async tune(split, t, progress) {
    const { iterations, cgSteps } = defaultsOf(IALS_OPTIONS);
    const ials = { iterations, cgSteps, ...(await selectIals(split, t, progress)).best };
    return { ...ials, ridge: (await selectContentCfRidge(split, t, progress, ials)).best };
  },
};
