// Table 3: accuracy of telling co-purchased product pairs from random ones by "similarity > t",
// for VASG embeddings, raw image features (INN) and IBR's learned distance; mean ± sd over runs
// (each run: its own pair sample, VASG seed and IBR seed).
import type { Split } from '../data/types.js';
import { buildRelationPairs, coPurchasedPairs, defaultRelationOptions, innSimilarity, relationAccuracy, relationPairKeys, type PairSimilarity } from '../eval/relations.js';
import { METHODS, optionsFor } from '../methods/registry.js';
import type { Method } from '../methods/method.js';
import type { ExperimentOptions } from './auc.js';
import { summarize, type Stat } from './stats.js';

export interface RelationRow {
  method: string;
  accuracy: Stat;
}

/**
 * Table 3 over the registry: VASG (the package's model), INN (raw image features, no training), then every other
 * registered method with a relation similarity (IBR), in registry order. Each is fitted per run with the run's seed.
 */
export async function relationsExperiment(split: Split, options: ExperimentOptions): Promise<{ rows: RelationRow[]; pairs: number }> {
  const fitted = METHODS.filter((m) => m.relations);
  const ordered = [...fitted.filter((m) => m.name === 'vasg'), null, ...fitted.filter((m) => m.name !== 'vasg')];
  const names = ordered.map((m) => m?.label ?? 'INN');
  const accuracy: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  let pairs = 0;
  for (let run = 0; run < options.runs; run++) {
    const seed = options.seed + run;
    options.progress.log(`relations: run ${run + 1}/${options.runs}`);
    // At most half of the co-purchased pairs are evaluated, so that IBR keeps the rest to learn from.
    const relationPairs = buildRelationPairs(split, { seed, pairs: Math.min(defaultRelationOptions.pairs, Math.floor(coPurchasedPairs(split).size / 2)) });
    pairs = relationPairs.first.length;
    // A method never trains on the pairs it is scored on (VASG's graph keeps them, as in the paper).
    const exclude = relationPairKeys(relationPairs);
    for (const method of ordered) {
      const similarity: PairSimilarity = method
        ? await method.relations!(split, methodOptions(method, options, seed), exclude, options.progress)
        : innSimilarity(split);
      accuracy[method?.label ?? 'INN'].push(relationAccuracy(similarity, relationPairs).accuracy);
    }
  }
  return { rows: Object.entries(accuracy).map(([method, values]) => ({ method, accuracy: summarize(values) })), pairs };
}

/** A run's options for a method: VASG takes the experiment's training config; every method the run's seed and threads. */
function methodOptions(method: Method, options: ExperimentOptions, seed: number): Record<string, unknown> {
  const base = method.name === 'vasg' ? { ...options.config } : {};
  return { ...base, ...optionsFor(method, { seed, threads: options.threads }) };
}
