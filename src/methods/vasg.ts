// VASG behind the Recommender contract: training is model/train.ts; this entry gives it a name, its option
// table (CONFIG_OPTIONS) and the training logs in the manifest, as `vasg train` writes them.
import type { Split } from '../data/types.js';
import { silentProgress, type Progress } from '../progress.js';
import { CONFIG_OPTIONS, resolveConfig, type TrainConfig } from '../model/config.js';
import { trainVasg } from '../model/train.js';
import type { VasgModel } from '../model/vasg-model.js';
import { vasgSimilarity } from '../eval/relations.js';
import { fitSimilarSpace } from '../model/similar-space.js';
import { asSplit } from './artifact.js';
import { incrementalConfig, startingPoint } from '../model/incremental.js';
import type { Method } from './method.js';

export const vasgMethod: Method<TrainConfig> = {
  name: 'vasg',
  label: 'VASG',
  description: 'Visually Aware Skip-Gram: users and products in one space from purchases and images (this package\'s model)',
  seeded: true,
  rankingTable: true,
  options: CONFIG_OPTIONS,
  async fit(data, options = {}, progress: Progress = silentProgress) {
    const result = await trainVasg(asSplit(data), resolveConfig(options), progress);
    Object.assign(result.model.info, { trainLog: result.log, rankingLog: result.rankingLog, encoderLog: result.encoderLog, trainSeconds: result.seconds });
    return result.model;
  },
  async relations(split, options, exclude, progress) {
    // The embeddings learn from whole purchase histories, as in the paper (the scored pairs stay in the walks); the
    // similar-items space on top of them is refitted without the scored pairs, as IBR is.
    const config = resolveConfig(options);
    const model = await trainedModel(split, config, progress);
    const space = config.similar === 'embedding' ? null
      : fitSimilarSpace(split, model.parts.items, await model.embedFeatures(split.features), config, exclude, progress);
    return vasgSimilarity(model.withSimilarSpace(space));
  },
};

/**
 * Incremental retraining (`vasg train --init-from`): `previous`'s shape, the incremental schedule unless `explicit`
 * says otherwise, and training started from its vectors, decoder and E (src/model/incremental.ts).
 */
export async function retrainVasg(previous: VasgModel, data: Split, explicit: Partial<TrainConfig> = {},
  progress: Progress = silentProgress): Promise<VasgModel> {
  const config = incrementalConfig(previous, explicit, resolveConfig);
  const { start, report } = startingPoint(previous, data, config);
  const result = await trainVasg(data, config, progress, start);
  Object.assign(result.model.info, { trainLog: result.log, rankingLog: result.rankingLog, encoderLog: result.encoderLog, trainSeconds: result.seconds, initFrom: report });
  return result.model;
}

const trained = new Map<string, Promise<VasgModel>>();

/**
 * Trains once per (split, config) in this process: `experiment all` reuses models across experiments. Without a
 * similar-items space: the experiments score the embeddings, and Table 3 fits the space itself without its pairs.
 */
export function trainedModel(split: Split, config: TrainConfig, progress: Progress): Promise<VasgModel> {
  const embeddingsOnly: TrainConfig = { ...config, similar: 'embedding' };
  const key = `${split.summary.seed}:${split.userIds.length}:${split.itemIds.length}:${JSON.stringify(embeddingsOnly)}`;
  let model = trained.get(key);
  if (!model) {
    model = trainVasg(split, embeddingsOnly, progress).then((result) => result.model);
    trained.set(key, model);
  }
  return model;
}
