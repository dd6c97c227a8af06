// Table 3: accuracy of telling co-purchased product pairs from random ones by "similarity > t",
// for VASG embeddings, raw image features (INN) and IBR's learned distance; mean ± sd over runs
// (each run: its own pair sample, VASG seed and IBR seed).
import type { Split } from '../data/types.js';
import { resolveConfig } from '../model/config.js';
import { buildRelationPairs, coPurchasedPairs, defaultRelationOptions, innSimilarity, relationAccuracy, relationPairKeys, vasgSimilarity, type PairSimilarity } from '../eval/relations.js';
import { ibrSimilarity, trainIbr } from '../baselines/ibr.js';
import { trainedModel, type ExperimentOptions } from './auc.js';
import { summarize, type Stat } from './stats.js';

export interface RelationRow {
  method: string;
  accuracy: Stat;
}

export async function relationsExperiment(split: Split, options: ExperimentOptions): Promise<{ rows: RelationRow[]; pairs: number }> {
  const accuracy: Record<string, number[]> = { VASG: [], INN: [], IBR: [] };
  let pairs = 0;
  for (let run = 0; run < options.runs; run++) {
    const seed = options.seed + run;
    options.progress.log(`relations: run ${run + 1}/${options.runs}`);
    // At most half of the co-purchased pairs are evaluated, so that IBR keeps the rest to learn from.
    const relationPairs = buildRelationPairs(split, { seed, pairs: Math.min(defaultRelationOptions.pairs, Math.floor(coPurchasedPairs(split).size / 2)) });
    pairs = relationPairs.first.length;
    const model = await trainedModel(split, resolveConfig({ ...options.config, threads: options.threads, seed }), options.progress);
    // IBR never trains on the pairs it is scored on.
    const ibr = trainIbr(split, { seed, threads: options.threads }, relationPairKeys(relationPairs), options.progress);
    const methods: Array<[string, PairSimilarity]> = [
      ['VASG', vasgSimilarity(model)],
      ['INN', innSimilarity(split)],
      ['IBR', ibrSimilarity(ibr, split.features)],
    ];
    for (const [name, similarity] of methods) accuracy[name].push(relationAccuracy(similarity, relationPairs).accuracy);
  }
  return { rows: Object.entries(accuracy).map(([method, values]) => ({ method, accuracy: summarize(values) })), pairs };
}
