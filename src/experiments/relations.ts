// Table 3 and "customers also bought": for VASG's similar-items space, raw image features (INN) and IBR's learned
// distance, (1) the accuracy of telling co-purchased product pairs from random ones by "similarity > t" and (2) the
// Recall@20 of held-out co-purchased products among an anchor's 20 most similar products, for warm and cold anchors
// (eval/relations.ts); mean ± sd over runs (each run: its own pair sample, VASG seed and IBR seed).
import type { Split } from '../data/types.js';
import {
  buildRelationPairs, coPurchasedPairs, coPurchaseRecall, defaultRelationOptions, heldOutCoPurchases, innSimilarity, relationAccuracy,
  relationPairKeys, type ItemSimilarity,
} from '../eval/relations.js';
import { METHODS, optionsFor } from '../methods/registry.js';
import type { Method } from '../methods/method.js';
import type { ExperimentOptions } from './auc.js';
import { summarize, type Stat } from './stats.js';

/** Anchors' top-K of the item-to-item measure. */
export const SIMILAR_K = 20;

export interface RelationRow {
  method: string;
  accuracy: Stat;
  /** Recall@20 of held-out co-purchased products, over warm and over cold anchors. */
  'recall@20': { warm: Stat; cold: Stat };
}

export interface RelationsResult {
  rows: RelationRow[];
  pairs: number;
  /** Anchors of the item-to-item measure (the same every run: they come from the split's test purchases). */
  anchors: { warm: number; cold: number };
}

/**
 * Table 3 over the registry: VASG (the package's model), INN (raw image features, no training), then every other
 * registered method with a relation similarity (IBR), in registry order. Each is fitted per run with the run's seed.
 */
export async function relationsExperiment(split: Split, options: ExperimentOptions): Promise<RelationsResult> {
  const fitted = METHODS.filter((m) => m.relations);
  const ordered = [...fitted.filter((m) => m.name === 'vasg'), null, ...fitted.filter((m) => m.name !== 'vasg')];
  const values = new Map(ordered.map((m) => [m?.label ?? 'INN', { accuracy: [] as number[], warm: [] as number[], cold: [] as number[] }]));
  const heldOut = heldOutCoPurchases(split);
  const anchors = { warm: 0, cold: 0 };
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
      const similarity: ItemSimilarity = method
        ? await method.relations!(split, methodOptions(method, options, seed), exclude, options.progress)
        : innSimilarity(split);
      const row = values.get(method?.label ?? 'INN')!;
      row.accuracy.push(relationAccuracy(similarity, relationPairs).accuracy);
      const recall = await coPurchaseRecall(similarity, split, heldOut, SIMILAR_K);
      row.warm.push(recall.warm);
      row.cold.push(recall.cold);
      Object.assign(anchors, { warm: recall.warmAnchors, cold: recall.coldAnchors });
    }
  }
  const rows = Array.from(values, ([method, v]) => ({
    method, accuracy: summarize(v.accuracy), 'recall@20': { warm: summarize(v.warm), cold: summarize(v.cold) },
  }));
  return { rows, pairs, anchors };
}

/** A run's options for a method: VASG takes the experiment's training config; every method the run's seed and threads. */
function methodOptions(method: Method, options: ExperimentOptions, seed: number): Record<string, unknown> {
  const base = method.name === 'vasg' ? { ...options.config } : {};
  return { ...base, ...optionsFor(method, { seed, threads: options.threads }) };
}
